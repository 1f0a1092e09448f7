import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  api,
  freePort,
  type ServerProcess,
  startServerProcess,
} from '../support/server-process.js';

const secretValue = 'sk_live_9f8e7d6c5b4a';
const forms = [
  secretValue,
  encodeURIComponent(`${secretValue}/?&`).slice(0, secretValue.length),
  Buffer.from(secretValue).toString('base64').replace(/=+$/, ''),
];
// A password whose URL-encoded forms differ between libraries, written out as Python prints
// them: urllib.parse.quote, quote_plus, and inside a Basic auth header.
const password = 'p@ss/w*rd(1) x';
const passwordForms = [
  password,
  'p%40ss/w%2Ard%281%29%20x',
  'p%40ss%2Fw%2Ard%281%29+x',
  // base64 of "ada:" + password; the value's own characters are its middle.
  'c3MvdypyZCgxKSB4',
];
const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-secrets-'));
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess(dataDir, await freePort(), { TAPLINE_LOG_LEVEL: 'debug' });
});
afterAll(async () => {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

it('keeps a secret value out of answers, stored runs, explanations and server logs', async () => {
  const created = await api(server.url, 'POST', '/secrets', {
    name: 'stripe',
    values: { STRIPE_KEY: secretValue, STRIPE_ACCOUNT: 'acct_1234', SHOP_PASSWORD: password },
  });
  expect(created.status).toBe(201);
  expect(JSON.stringify(created.body)).not.toContain(secretValue);
  expect((await api(server.url, 'GET', '/secrets')).body).toEqual([
    expect.objectContaining({
      name: 'stripe',
      fields: ['STRIPE_KEY', 'STRIPE_ACCOUNT', 'SHOP_PASSWORD'],
    }),
  ]);

  await api(server.url, 'POST', '/taps', {
    name: 'leaky',
    secret: 'stripe',
    script: `import os, base64, urllib.parse
def fetch():
    key = os.environ["STRIPE_KEY"]
    print(dict(os.environ))
    print("encoded:", urllib.parse.quote(key + "/?&"))
    print("b64:", base64.b64encode(key.encode()).decode())
    password = os.environ["SHOP_PASSWORD"]
    print("quote:", urllib.parse.quote(password), "quote_plus:", urllib.parse.quote_plus(password))
    print("Authorization: Basic " + base64.b64encode(("ada:" + password).encode()).decode())
    yield {"token": key, "account": os.environ["STRIPE_ACCOUNT"]}
    raise RuntimeError(f"Stripe refused key {key}")
`,
  });

  const answers = [
    await api(server.url, 'POST', '/tap/run', { name: 'leaky' }),
    await api(server.url, 'POST', '/tap/run', { name: 'leaky', mode: 'run' }),
  ];
  for (const answer of answers) {
    expect(answer.body.status).toBe('failure');
    expect(answer.body.error).toContain('RuntimeError: Stripe refused key ****');
    expect(answer.body.logs).toContain("'STRIPE_KEY': '****'");
    expect(answer.body.aiExplanation).toEqual(expect.any(String));
  }
  const history = await api(server.url, 'GET', '/taps/leaky/runs');
  const stored = await Promise.all(
    answers.map((a) => api(server.url, 'GET', `/runs/${a.body.runId}`)),
  );
  const everything = [
    JSON.stringify(answers.map((a) => a.body)),
    JSON.stringify(history.body),
    JSON.stringify(stored.map((s) => s.body)),
    server.output(),
  ].join('\n');
  for (const form of [...forms, ...passwordForms]) expect(everything).not.toContain(form);
  expect(answers[0]!.body.logs).toContain('quote: **** quote_plus: ****');
  expect(answers[0]!.body.logs).toContain('Authorization: Basic YWRhOn****');
  expect(server.output()).toContain('run finished');
});

it('masks a run with its own secret only, and the server’s log lines with every secret', async () => {
  await api(server.url, 'POST', '/secrets', {
    name: 'common',
    values: { WORD: 'rain', YEAR: '2015' },
  });
  await api(server.url, 'POST', '/taps', {
    name: 'rainfall',
    script: `def fetch():
    print("rain expected on 2015-03-01")
    return [{"date": "2015-03-01", "summary": "light rain"}]
`,
  });

  const answer = (await api(server.url, 'POST', '/tap/run', { name: 'rainfall' })).body;
  expect(answer.records).toEqual([{ date: '2015-03-01', summary: 'light rain' }]);
  expect(answer.logs).toBe('rain expected on 2015-03-01\n');
  const stored = (await api(server.url, 'GET', `/runs/${answer.runId}`)).body;
  expect(stored.logs).toBe('rain expected on 2015-03-01\n');

  // The tap's name holds a secret value: the server's own lines mask it all the same.
  const deadline = Date.now() + 5_000;
  while (!server.output().includes(answer.runId) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const finished = server
    .output()
    .split('\n')
    .find((line) => line.includes(answer.runId) && line.includes('run finished'));
  expect(finished).toContain('"tap":"****fall"');
  expect(server.output()).not.toContain('rainfall');
});
