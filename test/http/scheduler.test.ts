import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
});
afterAll(async () => test.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function scheduledRuns(name: string) {
  const runs = (await test.call('GET', `/api/v1/taps/${name}/runs?limit=500`)).body;
  return runs.filter((run: { trigger: string }) => run.trigger === 'schedule');
}

it('fires a scheduled tap in run mode, and stops when the tap is disabled', async () => {
  const script = 'def fetch():\n    return [{"a": 1}]\n';
  await test.call('PUT', '/api/v1/taps/ticker', {
    script,
    schedule: { cron: '* * * * * *', timezone: 'UTC' },
  });

  const deadline = Date.now() + 10_000;
  while ((await scheduledRuns('ticker')).length < 2 && Date.now() < deadline) await sleep(200);
  const fired = await scheduledRuns('ticker');
  expect(fired.length).toBeGreaterThanOrEqual(2);
  // The newest may still be running; the ones before it have finished.
  expect(fired.at(-1)).toMatchObject({ mode: 'run', status: 'success', recordCount: 1 });

  await test.call('PUT', '/api/v1/taps/ticker', {
    script,
    schedule: { cron: '* * * * * *', timezone: 'UTC' },
    enabled: false,
  });
  await sleep(1500);
  const settled = (await scheduledRuns('ticker')).length;
  await sleep(2000);
  expect((await scheduledRuns('ticker')).length).toBe(settled);
  expect((await test.call('GET', '/api/v1/taps/ticker')).body.nextRunAt).toBeNull();
});
