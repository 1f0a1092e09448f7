import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

// Settings under `runner:` in tapline.yaml reach the script's sandbox.
let test: TestApp;
beforeAll(async () => {
  test = await startTestApp({
    runner: { maxLogLineBytes: 4 * 1024 * 1024, maxTestRecordBytes: 1024 * 1024 },
  });
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

it("says a timeout was the tap's own timeoutSeconds when the tap set it", async () => {
  await test.call('PUT', '/api/v1/taps/slow', {
    name: 'slow',
    timeoutSeconds: 1,
    script: 'import time\ndef fetch():\n    time.sleep(30)\n',
  });

  const answer = await test.call('POST', '/api/v1/tap/run', { name: 'slow' });

  expect(answer.body.status).toBe('failure');
  expect(answer.body.error).toContain("the tap's own timeoutSeconds (1 s)");
  expect(answer.body.error).not.toContain('runner.testTimeoutSeconds');
});

it('stops a test run whose records pass runner.maxTestRecordBytes', async () => {
  await test.call('PUT', '/api/v1/taps/wide', {
    name: 'wide',
    script: 'def fetch():\n    while True:\n        yield {"pad": "x" * 100_000}\n',
  });

  const answer = await test.call('POST', '/api/v1/tap/run', { name: 'wide', testLimit: 0 });

  expect(answer.body.status).toBe('failure');
  expect(answer.body.error).toContain('1 MiB');
  expect(answer.body.error).toContain('runner.maxTestRecordBytes');
});
