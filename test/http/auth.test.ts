import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/store/store.js';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;
const keys: Record<Role, string> = { viewer: '', operator: '', admin: '' };
const configuredKey = 'ci-admin-key-0123456789';

/** Every API route with the least role that may call it (DESIGN section 5). */
const matrix: { method: string; url: string; role: Role; body?: unknown }[] = [
  { method: 'GET', url: '/api/v1/taps', role: 'viewer' },
  {
    method: 'POST',
    url: '/api/v1/taps',
    role: 'admin',
    body: { name: 'new', script: threeRecordsTap },
  },
  { method: 'GET', url: '/api/v1/taps/people', role: 'viewer' },
  { method: 'PUT', url: '/api/v1/taps/people', role: 'admin', body: { script: threeRecordsTap } },
  { method: 'DELETE', url: '/api/v1/taps/doomed', role: 'admin' },
  { method: 'GET', url: '/api/v1/taps/people/versions', role: 'viewer' },
  { method: 'GET', url: '/api/v1/taps/people/runs', role: 'viewer' },
  { method: 'GET', url: '/api/v1/runs/some-run', role: 'viewer' },
  { method: 'GET', url: '/api/v1/taps/people/state', role: 'viewer' },
  { method: 'PUT', url: '/api/v1/taps/people/state', role: 'admin', body: { cursor: 1 } },
  { method: 'DELETE', url: '/api/v1/taps/people/state', role: 'admin' },
  { method: 'POST', url: '/api/v1/tap/run', role: 'operator', body: { name: 'people' } },
  { method: 'GET', url: '/api/v1/pipelines', role: 'viewer' },
  {
    method: 'POST',
    url: '/api/v1/pipelines',
    role: 'admin',
    body: { name: 'p2', destinations: [{ type: 'sqlite', table: 't' }] },
  },
  { method: 'GET', url: '/api/v1/pipelines/p1', role: 'viewer' },
  {
    method: 'PUT',
    url: '/api/v1/pipelines/p1',
    role: 'admin',
    body: { name: 'p1', destinations: [{ type: 'sqlite', table: 't' }] },
  },
  { method: 'DELETE', url: '/api/v1/pipelines/p3', role: 'admin' },
  { method: 'GET', url: '/api/v1/pipeline/status?publishertoken=x', role: 'viewer' },
  { method: 'GET', url: '/api/v1/secrets', role: 'viewer' },
  {
    method: 'POST',
    url: '/api/v1/secrets',
    role: 'admin',
    body: { name: 's', values: { A: 'b' } },
  },
  { method: 'DELETE', url: '/api/v1/secrets/s', role: 'admin' },
];

const rank: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

async function call(method: string, url: string, key: string | undefined, body?: unknown) {
  const response = await test.app.inject({
    method: method as 'GET',
    url,
    headers: key === undefined ? {} : { 'x-api-key': key },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  const answer = (response.body ? response.json() : {}) as { error?: { code: string } };
  return { status: response.statusCode, body: answer };
}

beforeAll(async () => {
  test = await startTestApp({ apiKey: configuredKey });
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    keys[role] = (await test.context.keys.create(`${role}-key`, role)).key;
  }
  await call('PUT', '/api/v1/taps/people', configuredKey, { script: threeRecordsTap });
});
afterAll(async () => test.close());

describe('authentication and roles', () => {
  it('covers every API route of the OpenAPI document', async () => {
    const document = test.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(document.paths)
      .filter(([route]) => route.startsWith('/api/v1'))
      .flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`))
      .sort();
    const tested = matrix
      .map(({ method, url }) => `${method} ${url.split('?')[0]}`)
      .map((entry) =>
        entry
          .replace(/\/taps\/(people|doomed)/, '/taps/{name}')
          .replace(/\/runs\/some-run/, '/runs/{runId}')
          .replace(/\/pipelines\/p\d/, '/pipelines/{name}')
          .replace(/\/secrets\/s$/, '/secrets/{name}'),
      )
      .sort();
    expect(tested).toEqual(documented);
  });

  it('answers 401 without a key or with a wrong one, on every route', async () => {
    for (const route of matrix) {
      for (const key of [undefined, 'wrong-key', `${keys.admin}x`]) {
        const answer = await call(route.method, route.url, key, route.body);
        expect(answer.status, `${route.method} ${route.url} key=${key}`).toBe(401);
        expect(answer.body.error?.code).toBe('unauthorized');
      }
    }
  });

  it('answers 403 to a role below the route’s, and lets the others through', async () => {
    for (const route of matrix) {
      for (const role of ['viewer', 'operator', 'admin'] as const) {
        const answer = await call(route.method, route.url, keys[role], route.body);
        const label = `${route.method} ${route.url} as ${role}`;
        if (rank[role] < rank[route.role]) {
          expect(answer.status, label).toBe(403);
          expect(answer.body.error?.code).toBe('forbidden');
        } else {
          expect([401, 403], label).not.toContain(answer.status);
        }
      }
    }
  });

  it('accepts TAPLINE_API_KEY as an admin key and records when keys were last used', async () => {
    expect((await call('DELETE', '/api/v1/taps/people/state', configuredKey)).status).toBe(204);
    const listed = await test.context.keys.list();
    expect(listed.map((k) => [k.name, k.role])).toEqual([
      ['admin-key', 'admin'],
      ['operator-key', 'operator'],
      ['viewer-key', 'viewer'],
    ]);
    expect(listed.every((k) => typeof k.lastUsedAt === 'string')).toBe(true);
  });

  it('leaves /healthz and /docs open', async () => {
    expect((await call('GET', '/healthz', undefined)).status).toBe(200);
    expect((await test.app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
  });

  it('stops accepting a revoked key', async () => {
    const { key } = await test.context.keys.create('temporary', 'viewer');
    expect((await call('GET', '/api/v1/taps', key)).status).toBe(200);
    await test.context.keys.revoke('temporary');
    expect((await call('GET', '/api/v1/taps', key)).status).toBe(401);
  });
});

describe('webhook headers', () => {
  it('shows their values to admins only', async () => {
    const hook = {
      name: 'hooked',
      destinations: [
        {
          type: 'webhook',
          url: 'https://hooks.example.com/in',
          headers: { Authorization: 'Bearer SUPERSECRET-webhook-token', 'X-Team': 'data' },
        },
      ],
    };
    expect((await call('POST', '/api/v1/pipelines', keys.admin, hook)).status).toBe(201);

    const headersSeenBy = async (role: Role, url: string) => {
      const { body } = await call('GET', url, keys[role]);
      const pipeline = Array.isArray(body)
        ? (body as { name: string }[]).find((p) => p.name === 'hooked')
        : body;
      return (pipeline as { destinations: { headers: Record<string, string> }[] }).destinations[0]!
        .headers;
    };
    for (const url of ['/api/v1/pipelines/hooked', '/api/v1/pipelines']) {
      expect(await headersSeenBy('viewer', url)).toEqual({ Authorization: '***', 'X-Team': '***' });
      expect(await headersSeenBy('operator', url)).toEqual({
        Authorization: '***',
        'X-Team': '***',
      });
      expect(await headersSeenBy('admin', url)).toEqual(hook.destinations[0]!.headers);
    }
  });
});
