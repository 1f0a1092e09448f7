import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
  await test.call('PUT', '/api/v1/taps/people', { script: threeRecordsTap });
  await test.call('PUT', '/api/v1/taps/people/state', { cursor: 7 });
});
afterAll(async () => test.close());

const nested = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

async function send(method: 'PUT' | 'POST' | 'DELETE', url: string, payload: string | Buffer) {
  const response = await test.app.inject({
    method,
    url,
    payload,
    headers: { 'content-type': 'application/json' },
  });
  return { status: response.statusCode, body: response.body ? response.json() : null };
}

it('refuses a state nested thousands of levels deep with a 400, keeping the state', async () => {
  for (const depth of [101, 5_000, 100_000]) {
    const answer = await send('PUT', '/api/v1/taps/people/state', nested(depth));
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          message: 'the body nests objects or arrays more than 100 levels deep',
        },
      },
    });
  }
  expect((await test.call('GET', '/api/v1/taps/people/state')).body.state).toEqual({ cursor: 7 });
});

it('takes a state nested 100 levels deep, and brackets inside strings do not count', async () => {
  const text = `{"s": "${'[{'.repeat(200)}\\"", "deep": ${nested(99)}}`;
  const answer = await send('PUT', '/api/v1/taps/people/state', text);
  expect(answer.status).toBe(200);
  expect(answer.body.state).toEqual(JSON.parse(text));
  await test.call('PUT', '/api/v1/taps/people/state', { cursor: 7 });
});

it('keeps a state’s integers past 2^53 exact', async () => {
  const answer = await send('PUT', '/api/v1/taps/people/state', '{"sinceId": 1234567890123456789}');
  expect(answer.status).toBe(200);
  const stored = await test.app.inject({ method: 'GET', url: '/api/v1/taps/people/state' });
  expect(stored.body).toContain('"sinceId":1234567890123456789');
  await test.call('PUT', '/api/v1/taps/people/state', { cursor: 7 });
});

it('refuses invalid UTF-8 inside a string value instead of storing U+FFFD', async () => {
  const body = Buffer.concat([
    Buffer.from('{"name": "shop", "values": {"TOKEN": "ab'),
    Buffer.from([0xff, 0xfe]),
    Buffer.from('cd"}}'),
  ]);
  expect(await send('POST', '/api/v1/secrets', body)).toEqual({
    status: 400,
    body: { error: { code: 'malformed_json', message: 'the body is not valid UTF-8' } },
  });
  expect((await test.call('GET', '/api/v1/secrets')).body).toEqual([]);
});

it('accepts an empty JSON body on routes that take none, and refuses it on those that do', async () => {
  await test.call('POST', '/api/v1/secrets', { name: 'gone', values: { A: 'b' } });
  await test.call('POST', '/api/v1/pipelines', {
    name: 'gone',
    destinations: [{ type: 'sqlite', table: 'gone' }],
  });
  await test.call('PUT', '/api/v1/taps/gone', { script: threeRecordsTap });

  expect((await send('DELETE', '/api/v1/taps/people/state', '')).status).toBe(204);
  expect((await send('DELETE', '/api/v1/secrets/gone', '')).status).toBe(204);
  expect((await send('DELETE', '/api/v1/pipelines/gone', '')).status).toBe(204);
  expect((await send('DELETE', '/api/v1/taps/gone', '')).status).toBe(204);
  expect((await test.call('GET', '/api/v1/taps/people/state')).body.state).toBeNull();

  expect(await send('POST', '/api/v1/taps', '')).toEqual({
    status: 400,
    body: { error: { code: 'malformed_json', message: 'the body is empty; send a JSON object' } },
  });
  expect((await send('PUT', '/api/v1/taps/people/state', '')).status).toBe(400);
});
