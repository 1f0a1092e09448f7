import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

const apiKey = 'ci-admin-key-0123456789';
const shapedKey = 'tl_' + 'Q7w_E8r-T9'.repeat(4) + 'abc';
let test: TestApp;

async function call(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) {
  const response = await test.app.inject({
    method,
    url,
    headers: { 'x-api-key': apiKey },
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() };
}

/** Prints and returns the words two secrets hold, and both kinds of API key. */
const weatherScript = `
TAP_STATE = None

def fetch():
    global TAP_STATE
    print("forecast: rain from 2015-03-01")
    print("keys: ${apiKey} ${shapedKey}")
    TAP_STATE = {"since": "2015-03-02", "word": "rain"}
    return [
        {"date": "2015-03-01", "summary": "light rain"},
        {"date": "2015-03-02", "summary": "sun", "note": "sk_live_9f8e7d6c5b4a"},
    ]
`;

beforeAll(async () => {
  test = await startTestApp({ apiKey });
  await call('POST', '/api/v1/secrets', {
    name: 'common',
    values: { WORD: 'rain', YEAR: '2015' },
  });
  await call('POST', '/api/v1/secrets', {
    name: 'stripe',
    values: { STRIPE_KEY: 'sk_live_9f8e7d6c5b4a' },
  });
  await call('PUT', '/api/v1/taps/weather', { script: weatherScript });
  await call('PUT', '/api/v1/taps/weather-common', { script: weatherScript, secret: 'common' });
  await call('PUT', '/api/v1/taps/weather-stripe', { script: weatherScript, secret: 'stripe' });
  await call('PUT', '/api/v1/taps/failing', {
    script: 'def fetch():\n    raise RuntimeError("no rain data for 2015-03-01")\n',
  });
});
afterAll(async () => test.close());

async function runOf(tap: string, mode: 'test' | 'run' = 'test') {
  const answer = (await call('POST', '/api/v1/tap/run', { name: tap, mode })).body;
  const stored = (await call('GET', `/api/v1/runs/${answer.runId}`)).body;
  const newState = (await test.context.store.runs.get(answer.runId))?.newState;
  return { answer, stored, newState };
}

it('leaves a tap without a secret unmasked by other secrets, masking only API keys', async () => {
  const { answer, stored } = await runOf('weather');
  expect(answer.records).toEqual([
    { date: '2015-03-01', summary: 'light rain' },
    { date: '2015-03-02', summary: 'sun', note: 'sk_live_9f8e7d6c5b4a' },
  ]);
  const logs = 'forecast: rain from 2015-03-01\nkeys: **** ****\n';
  expect(answer.logs).toBe(logs);
  expect(stored.logs).toBe(logs);

  const { newState } = await runOf('weather', 'run');
  expect(newState).toEqual({ since: '2015-03-02', word: 'rain' });
});

it('masks a run with its own secret’s values, and no other secret’s', async () => {
  const common = await runOf('weather-common');
  expect(common.answer.records).toEqual([
    { date: '****-03-01', summary: 'light ****' },
    { date: '****-03-02', summary: 'sun', note: 'sk_live_9f8e7d6c5b4a' },
  ]);
  expect(common.stored.logs).toBe('forecast: **** from ****-03-01\nkeys: **** ****\n');
  expect((await runOf('weather-common', 'run')).newState).toEqual({
    since: '****-03-02',
    word: '****',
  });

  const stripe = await runOf('weather-stripe');
  expect(stripe.answer.records).toEqual([
    { date: '2015-03-01', summary: 'light rain' },
    { date: '2015-03-02', summary: 'sun', note: '****' },
  ]);
  expect(stripe.stored.logs).toBe('forecast: rain from 2015-03-01\nkeys: **** ****\n');
});

it('leaves the error and explanation of a run without a secret unmasked', async () => {
  const { answer, stored } = await runOf('failing');
  expect(answer.status).toBe('failure');
  expect(answer.error).toContain('RuntimeError: no rain data for 2015-03-01');
  expect(stored.error).toBe(answer.error);
  expect(stored.explanation).toContain('no rain data for 2015-03-01');
  expect(stored.explanation).not.toContain('****');
});

it('masks a value set while a run goes, in that run’s outputs', async () => {
  await call('PUT', '/api/v1/taps/slow-common', {
    secret: 'common',
    script: `import os, time
def fetch():
    time.sleep(1)
    print("late:", os.environ.get("LATE", "none"), "word:", os.environ["WORD"])
    return [{"word": "drizzle"}]
`,
  });
  const running = runOf('slow-common');
  await new Promise((resolve) => setTimeout(resolve, 300));
  // The script got the values at its start; a value added now reaches the next run, but the
  // masker of this run learns it too, which is the safe side.
  await call('POST', '/api/v1/secrets', {
    name: 'common',
    values: { WORD: 'rain', YEAR: '2015', LATE: 'drizzle' },
  });
  const { answer } = await running;
  expect(answer.records).toEqual([{ word: '****' }]);
  expect(answer.logs).toBe('late: none word: ****\n');
});
