import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;

const hostileNames = [
  '../etc/passwd',
  '..',
  'a/b',
  "o'brien",
  'say "hi"',
  'x; DROP TABLE taps; --',
  "' OR 1=1 --",
  '',
  ' ',
  '-leading-dash',
  'tab\tname',
  'nul\u0000byte',
  'ünïcode',
  'x'.repeat(200),
];
const wrongTypes = [null, 0, -1, 1.5, true, [], {}, [1, 2], { a: { b: 1 } }];
const hugeString = 'A'.repeat(900_000);

function deeplyNested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Malformed UTF-8: a broken sequence, a stray byte, a surrogate, an overlong slash. */
const invalidUtf8 = [[0xc3, 0x28], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf]];
const bytesGoHere = 'BYTES_GO_HERE';

/** The body as JSON text with `bytes` in place of the marker inside one of its strings. */
function withBytes(body: Record<string, unknown>, bytes: number[]): Buffer {
  const [before, after] = JSON.stringify(body).split(bytesGoHere) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

interface BodyRoute {
  method: 'POST' | 'PUT';
  /** As the OpenAPI document names it, with `{name}` for the path parameter. */
  route: string;
  url: string;
  /** A body the route accepts, with the marker inside a string value. */
  body: Record<string, unknown>;
}

/** A valid body for each route that takes one; the test fails when a route is missing here. */
const validBodies: Record<string, { url: string; body: Record<string, unknown> }> = {
  'POST /api/v1/taps': {
    url: '/api/v1/taps',
    body: { name: 'fuzzed', script: `${threeRecordsTap}# ${bytesGoHere}\n` },
  },
  'PUT /api/v1/taps/{name}': {
    url: '/api/v1/taps/people',
    body: { script: threeRecordsTap, description: bytesGoHere, targetPipeline: 'people' },
  },
  'POST /api/v1/tap/run': {
    url: '/api/v1/tap/run',
    body: { name: 'people', params: { note: bytesGoHere } },
  },
  'PUT /api/v1/taps/{name}/state': {
    url: '/api/v1/taps/people/state',
    body: { cursor: bytesGoHere },
  },
  'POST /api/v1/pipelines': {
    url: '/api/v1/pipelines',
    body: {
      name: 'fuzzed',
      description: bytesGoHere,
      destinations: [{ type: 'sqlite', table: 't' }],
    },
  },
  'PUT /api/v1/pipelines/{name}': {
    url: '/api/v1/pipelines/people',
    body: { ...peoplePipelineBody(), description: bytesGoHere },
  },
  'POST /api/v1/secrets': {
    url: '/api/v1/secrets',
    body: { name: 'fuzzed', values: { A: bytesGoHere } },
  },
};

function peoplePipelineBody() {
  return { name: 'people', destinations: [{ type: 'sqlite', table: 'people' }] };
}

/** Every route of the OpenAPI document that takes a request body. */
function bodyRoutesOf(app: TestApp['app']): BodyRoute[] {
  const document = app.swagger() as {
    paths: Record<string, Record<string, { requestBody?: unknown }>>;
  };
  return Object.entries(document.paths).flatMap(([route, operations]) =>
    Object.entries(operations)
      .filter(([, operation]) => operation.requestBody !== undefined)
      .map(([method, operation]) => {
        const key = `${method.toUpperCase()} ${route}`;
        const valid = validBodies[key];
        if (!valid) throw new Error(`no valid body for ${key}; add one to validBodies`);
        return { method: method.toUpperCase() as BodyRoute['method'], route: key, ...valid };
      }),
  );
}

interface Case {
  method: 'POST' | 'PUT' | 'DELETE' | 'GET';
  url: string;
  payload?: string | Buffer;
  contentType?: string;
}

function json(method: Case['method'], url: string, body: unknown): Case {
  return { method, url, payload: JSON.stringify(body), contentType: 'application/json' };
}

/** Each valid body, with one field at a time replaced by a value of the wrong kind. */
function mutations(
  method: Case['method'],
  url: string,
  valid: Record<string, unknown>,
  fields: Record<string, unknown[]>,
) {
  const cases: Case[] = [];
  for (const [field, values] of Object.entries(fields)) {
    for (const value of values) cases.push(json(method, url, { ...valid, [field]: value }));
  }
  return cases;
}

const tapFields: Record<string, unknown[]> = {
  script: ['', ...wrongTypes],
  kind: ['video', ...wrongTypes],
  targetPipeline: ['../x', "p'; --", 0, true, {}],
  schedule: ['daily', { cron: 'not cron' }, { cron: '0 6 * * *', timezone: 'Nowhere/City' }, [], 1],
  enabled: ['yes', 1, null, []],
  secret: ['../s', 1, {}],
  timeoutSeconds: [-1, 0, 'ten', 1e12, {}],
  unknownField: ['x'],
};

const pipelineFields: Record<string, unknown[]> = {
  destinations: [
    [],
    null,
    'sqlite',
    [{ type: 'ftp' }],
    [{ type: 'sqlite', table: "t'; DROP TABLE x; --" }],
    [{ type: 'sqlite', table: '../../etc/passwd' }],
    [{ type: 'sqlite', table: 't', writeMode: 'merge' }],
    [{ type: 'webhook', url: 'not a url' }],
    [{ type: 'file', path: 7 }],
  ],
  schema: [
    'x',
    [{ name: 'a', type: 'money' }],
    [
      { name: 'a', type: 'string' },
      { name: 'a', type: 'string' },
    ],
    [{}],
  ],
  quality: [
    [{ field: 'a', check: 'regex', onFailure: 'reject' }],
    [{ field: 'a', check: 'pattern', pattern: '(' }],
    'x',
  ],
  primaryKey: ['id', [1], {}],
  schemaPolicy: ['loose', 1],
};

const peoplePipeline = peoplePipelineBody();

function buildCases(bodyRoutes: BodyRoute[]): Case[] {
  const tap = { name: 'fuzzed', script: threeRecordsTap };
  const pipeline = { name: 'fuzzed', destinations: [{ type: 'sqlite', table: 'fuzzed' }] };
  const cases: Case[] = [
    ...mutations('POST', '/api/v1/taps', tap, {
      name: [...hostileNames, ...wrongTypes],
      ...tapFields,
    }),
    ...mutations('PUT', '/api/v1/taps/people', { script: threeRecordsTap }, tapFields),
    ...hostileNames
      .filter((name) => name.length > 0 && !name.includes('/') && name !== '..')
      .map((name) =>
        json('PUT', `/api/v1/taps/${encodeURIComponent(name)}`, { script: threeRecordsTap }),
      ),
    ...mutations(
      'POST',
      '/api/v1/tap/run',
      { name: 'people' },
      {
        name: [...hostileNames, ...wrongTypes],
        mode: ['deploy', 'RUN', ...wrongTypes],
        params: ['since=1', [1], 1, true, { 'bad-key': 1 }, { '1abc': 1 }, { 'a b': 1 }, { '': 1 }],
        testLimit: [-1, 1.5, '20', null, [], {}],
        updateState: ['yes', 1, {}],
      },
    ),
    ...mutations('POST', '/api/v1/pipelines', pipeline, {
      name: [...hostileNames, ...wrongTypes],
      ...pipelineFields,
    }),
    ...mutations('PUT', '/api/v1/pipelines/people', peoplePipeline, pipelineFields),
    ...mutations(
      'POST',
      '/api/v1/secrets',
      { name: 'fuzzed', values: { A: 'b' } },
      {
        name: [...hostileNames, ...wrongTypes],
        values: [{}, { 'bad-key': 'x' }, { A: 1 }, { A: null }, 'x', [], null],
      },
    ),
    json('PUT', '/api/v1/taps/people/state', [1, 2]),
    json('PUT', '/api/v1/taps/people/state', 'cursor'),
    json('PUT', '/api/v1/taps/people', { name: 'other', script: threeRecordsTap }),
    json('PUT', '/api/v1/pipelines/fuzzed', { ...pipeline, name: 'other' }),
    { method: 'GET', url: '/api/v1/pipeline/status' },
    { method: 'GET', url: '/api/v1/pipeline/status?publishertoken=a&pipelinetoken=b' },
    { method: 'GET', url: '/api/v1/pipeline/status?pipelinename=x&page=0' },
    { method: 'GET', url: '/api/v1/pipeline/status?pipelinename=x&page=-1' },
    { method: 'GET', url: '/api/v1/pipeline/status?publishertoken=' + 'x'.repeat(5000) },
    { method: 'GET', url: '/api/v1/taps/people/runs?limit=-1' },
    { method: 'GET', url: '/api/v1/taps/people/runs?limit=abc' },
    { method: 'GET', url: '/api/v1/taps/people/runs?offset=-5' },
    { method: 'DELETE', url: '/api/v1/pipelines/people?force=maybe' },
    { method: 'DELETE', url: '/api/v1/secrets/people?force=maybe' },
    { method: 'DELETE', url: '/api/v1/secrets/people?force=true&force=false' },
    { method: 'GET', url: `/api/v1/taps/${'x'.repeat(300)}` },
    { method: 'DELETE', url: '/api/v1/taps/..%2F..%2Fetc' },
    { method: 'GET', url: '/api/v1/runs/' + 'r'.repeat(500) },
  ];

  // Every route that takes a name in its path, with each hostile name in it.
  const pathRoutes: [Case['method'], string][] = [
    ['GET', '/api/v1/taps/{}'],
    ['DELETE', '/api/v1/taps/{}'],
    ['GET', '/api/v1/taps/{}/versions'],
    ['GET', '/api/v1/taps/{}/runs'],
    ['GET', '/api/v1/taps/{}/state'],
    ['DELETE', '/api/v1/taps/{}/state'],
    ['GET', '/api/v1/pipelines/{}'],
    ['DELETE', '/api/v1/pipelines/{}'],
    ['DELETE', '/api/v1/secrets/{}'],
  ];
  for (const [method, route] of pathRoutes) {
    for (const name of hostileNames.filter((n) => n.trim().length > 0 && n !== '..')) {
      cases.push({ method, url: route.replace('{}', encodeURIComponent(name)) });
    }
  }

  // Bodies that are not JSON, or JSON that no parser should be made to chew on, sent to every
  // route that takes a body.
  for (const { method, url, body } of bodyRoutes) {
    cases.push(
      { method, url, payload: '{"name": "x",', contentType: 'application/json' },
      { method, url, payload: '', contentType: 'application/json' },
      { method, url, payload: 'name=x', contentType: 'application/x-www-form-urlencoded' },
      { method, url, payload: 'name: x', contentType: 'text/plain' },
      {
        method,
        url,
        payload: Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        contentType: 'application/json',
      },
      {
        method,
        url,
        payload: Buffer.from('{"name":"\xc3\x28"}', 'latin1'),
        contentType: 'application/json',
      },
      // A valid body but for one malformed UTF-8 sequence inside a string value.
      ...invalidUtf8.map((bytes) => ({
        method,
        url,
        payload: withBytes(body, bytes),
        contentType: 'application/json',
      })),
      { method, url, payload: deeplyNested(5_000), contentType: 'application/json' },
      { method, url, payload: deeplyNested(100_000), contentType: 'application/json' },
      { method, url, payload: '['.repeat(200_000), contentType: 'application/json' },
      {
        method,
        url,
        payload: '[' + '['.repeat(5_000) + ']'.repeat(5_000) + ']',
        contentType: 'application/json',
      },
      json(method, url, { ...body, nested: JSON.parse(deeplyNested(150)) }),
      {
        method,
        url,
        payload: '{"__proto__": {"admin": true}, "name": "x"}',
        contentType: 'application/json',
      },
      {
        method,
        url,
        payload: '{"constructor": {"prototype": {"admin": true}}}',
        contentType: 'application/json',
      },
      {
        method,
        url,
        payload: `{"a": {"__proto__": {"admin": true}}, ${JSON.stringify(body).slice(1)}`,
        contentType: 'application/json',
      },
      // A huge string where a name belongs (state takes any object, so none there).
      json(method, url, 'name' in body ? { ...body, name: hugeString } : hugeString),
      json(method, url, 'A'.repeat(1_200_000)),
      json(method, url, null),
      json(method, url, 42),
      json(method, url, [{ name: 'x' }]),
    );
  }
  return cases;
}

async function snapshot() {
  const read = async (url: string) => (await test.call('GET', url)).body;
  return JSON.stringify({
    taps: await read('/api/v1/taps'),
    pipelines: await read('/api/v1/pipelines'),
    secrets: await read('/api/v1/secrets'),
    runs: await read('/api/v1/taps/people/runs?limit=500'),
    state: await read('/api/v1/taps/people/state'),
  });
}

beforeAll(async () => {
  test = await startTestApp();
  await test.call('PUT', '/api/v1/taps/people', { script: threeRecordsTap });
  await test.call('PUT', '/api/v1/taps/people/state', { cursor: 7 });
  await test.call('POST', '/api/v1/pipelines', {
    name: 'people',
    destinations: [{ type: 'sqlite', table: 'people' }],
  });
  await test.call('PUT', '/api/v1/taps/people', {
    script: threeRecordsTap,
    targetPipeline: 'people',
  });
});
afterAll(async () => test.close());

it('answers every hostile request with a 4xx JSON error and changes nothing', async () => {
  const bodyRoutes = bodyRoutesOf(test.app);
  expect(bodyRoutes.map((r) => r.route).sort()).toEqual(Object.keys(validBodies).sort());
  const before = await snapshot();
  const cases = buildCases(bodyRoutes);
  const failures: string[] = [];
  for (const c of cases) {
    const response = await test.app.inject({
      method: c.method,
      url: c.url,
      ...(c.payload === undefined ? {} : { payload: c.payload }),
      ...(c.contentType ? { headers: { 'content-type': c.contentType } } : {}),
    });
    const label = `${c.method} ${c.url.slice(0, 80)} ${String(c.payload ?? '').slice(0, 80)}`;
    let body: { error?: { code?: unknown; message?: unknown } } = {};
    try {
      body = response.json();
    } catch {
      failures.push(`${label}: not JSON (${response.statusCode})`);
      continue;
    }
    const ok =
      response.statusCode >= 400 &&
      response.statusCode < 500 &&
      typeof body.error?.code === 'string' &&
      typeof body.error?.message === 'string' &&
      !String(body.error.message).includes('    at ');
    if (!ok) failures.push(`${label}: ${response.statusCode} ${response.body.slice(0, 200)}`);
  }
  console.log(
    `hostile input: ${cases.length} cases over ${bodyRoutes.length} routes with a body and the ` +
      `routes with a name in the path, ${cases.length - failures.length} answered 4xx JSON`,
  );
  expect(failures).toEqual([]);
  expect(cases.length).toBeGreaterThan(300);
  expect(await snapshot()).toBe(before);
});

// The malformed-UTF-8 cases above are refused for their bytes alone: the same bodies with a
// well-formed character in place of the bad bytes are accepted.
it('accepts each route’s valid body when its string holds well-formed UTF-8', async () => {
  const fresh = await startTestApp();
  try {
    await fresh.call('PUT', '/api/v1/pipelines/people', peoplePipelineBody());
    await fresh.call('PUT', '/api/v1/taps/people', { script: threeRecordsTap });
    const statuses: Record<string, number> = {};
    for (const { method, route, url, body } of bodyRoutesOf(fresh.app)) {
      const response = await fresh.app.inject({
        method,
        url,
        payload: withBytes(body, [...Buffer.from('é')]),
        headers: { 'content-type': 'application/json' },
      });
      statuses[route] = response.statusCode;
    }
    expect(statuses).toEqual({
      'POST /api/v1/taps': 201,
      'PUT /api/v1/taps/{name}': 200,
      'POST /api/v1/tap/run': 200,
      'PUT /api/v1/taps/{name}/state': 200,
      'POST /api/v1/pipelines': 201,
      'PUT /api/v1/pipelines/{name}': 200,
      'POST /api/v1/secrets': 201,
    });
    expect((await fresh.call('GET', '/api/v1/taps/people/state')).body.state).toEqual({
      cursor: 'é',
    });
  } finally {
    await fresh.close();
  }
});

it('loads safely into tables and columns named with SQL keywords and punctuation', async () => {
  await test.call('POST', '/api/v1/pipelines', {
    name: 'keywords',
    destinations: [{ type: 'sqlite', table: 'select', writeMode: 'append' }],
  });
  await test.call('PUT', '/api/v1/taps/keywords', {
    targetPipeline: 'keywords',
    script: `def fetch():
    return [{"from": 1, "where": "x'; DROP TABLE taps; --", "a\\"b": 2, "order by": 3}]
`,
  });
  const run = await test.call('POST', '/api/v1/tap/run', { name: 'keywords', mode: 'run' });
  await test.context.queue.idle();
  const status = await test.call(
    'GET',
    `/api/v1/pipeline/status?publishertoken=${run.body.publisherToken}&withrollup=true`,
  );
  expect(status.body.rollup.status).toBe('success');
  expect((await test.call('GET', '/api/v1/taps')).status).toBe(200);
});
