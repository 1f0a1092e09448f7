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

function buildCases(): Case[] {
  const tap = { name: 'fuzzed', script: threeRecordsTap };
  const pipeline = { name: 'fuzzed', destinations: [{ type: 'sqlite', table: 'fuzzed' }] };
  const cases: Case[] = [
    ...mutations('POST', '/api/v1/taps', tap, {
      name: [...hostileNames, ...wrongTypes],
      script: ['', ...wrongTypes],
      kind: ['video', ...wrongTypes],
      targetPipeline: ['../x', "p'; --", 0, true, {}],
      schedule: [
        'daily',
        { cron: 'not cron' },
        { cron: '0 6 * * *', timezone: 'Nowhere/City' },
        [],
        1,
      ],
      enabled: ['yes', 1, null, []],
      secret: ['../s', 1, {}],
      timeoutSeconds: [-1, 0, 'ten', 1e12, {}],
      unknownField: ['x'],
    }),
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
    }),
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

  // Bodies that are not JSON, or JSON that no parser should be made to chew on.
  for (const url of ['/api/v1/taps', '/api/v1/tap/run', '/api/v1/pipelines', '/api/v1/secrets']) {
    cases.push(
      { method: 'POST', url, payload: '{"name": "x",', contentType: 'application/json' },
      { method: 'POST', url, payload: '', contentType: 'application/json' },
      { method: 'POST', url, payload: 'name=x', contentType: 'application/x-www-form-urlencoded' },
      { method: 'POST', url, payload: 'name: x', contentType: 'text/plain' },
      {
        method: 'POST',
        url,
        payload: Buffer.from([0x7b, 0x22, 0x6e, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
        contentType: 'application/json',
      },
      {
        method: 'POST',
        url,
        payload: Buffer.from('{"name":"\xc3\x28"}', 'latin1'),
        contentType: 'application/json',
      },
      { method: 'POST', url, payload: deeplyNested(100_000), contentType: 'application/json' },
      { method: 'POST', url, payload: '['.repeat(200_000), contentType: 'application/json' },
      {
        method: 'POST',
        url,
        payload: '{"__proto__": {"admin": true}, "name": "x"}',
        contentType: 'application/json',
      },
      {
        method: 'POST',
        url,
        payload: '{"constructor": {"prototype": {"admin": true}}}',
        contentType: 'application/json',
      },
      json('POST', url, { name: hugeString }),
      json('POST', url, 'A'.repeat(1_200_000)),
      json('POST', url, null),
      json('POST', url, 42),
      json('POST', url, [{ name: 'x' }]),
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
  const before = await snapshot();
  const cases = buildCases();
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
    `hostile input: ${cases.length} cases, ${cases.length - failures.length} answered 4xx JSON`,
  );
  expect(failures).toEqual([]);
  expect(cases.length).toBeGreaterThan(300);
  expect(await snapshot()).toBe(before);
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
