import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Settings under `runner:` in tapline.yaml reach the script's sandbox.
let test: TestApp;
beforeAll(async () => {
  test = await startTestApp({ runner: { maxLogLineBytes: 4 * 1024 * 1024 } });
});
afterAll(async () => {
  await test.close();
});

it('lets a script print a line as long as runner.maxLogLineBytes allows', async () => {
  await test.call('PUT', '/api/v1/taps/long-line', {
    name: 'long-line',
    script: 'def fetch():\n    print("x" * 2_000_000)\n    return [{"id": 1}]\n',
  });

  const answer = await test.call('POST', '/api/v1/tap/run', { name: 'long-line' });

  expect(answer.body).toMatchObject({ status: 'success', recordCount: 1 });
  expect(answer.body).not.toHaveProperty('error');
});
