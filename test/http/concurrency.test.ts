import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap, waitForLoad } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp({ runner: { maxConcurrentRuns: 4, maxQueuedRuns: 60 } });
  await test.call('PUT', '/api/v1/taps/echo', {
    script: `import os, time
def fetch():
    time.sleep(0.2)
    return [{"n": int(os.environ["TAP_PARAM_n"])}]
`,
  });
  // A loaded job, so that status queries during the runs below have something to answer.
  await test.call('POST', '/api/v1/pipelines', {
    name: 'people',
    destinations: [{ type: 'sqlite', table: 'people' }],
  });
  await test.call('PUT', '/api/v1/taps/people', {
    script: threeRecordsTap,
    targetPipeline: 'people',
  });
  const run = await test.call('POST', '/api/v1/tap/run', { name: 'people', mode: 'run' });
  await waitForLoad(test, run.body.publisherToken);
});

/** Answers a status query every 100 ms, noting how long each took and how many slots were busy. */
async function pollStatus(times: { ms: number; busy: number }[], count: number) {
  for (let i = 0; i < count; i++) {
    const busy = test.context.slots.busy;
    const start = performance.now();
    const answer = await test.call(
      'GET',
      '/api/v1/pipeline/status?pipelinename=people&withrollup=true',
    );
    times.push({ ms: performance.now() - start, busy });
    expect(answer.status).toBe(200);
    expect(answer.body.rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
    expect(answer.body.rollup.jobs[0].recordCount).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
afterAll(async () => test.close());

it('answers 50 concurrent test runs on 4 slots, each with its own records', async () => {
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, test.context.slots.busy)), 5);
  const healthTimes: number[] = [];
  const health = (async () => {
    for (let i = 0; i < 10; i++) {
      const start = performance.now();
      expect((await test.call('GET', '/healthz')).status).toBe(200);
      healthTimes.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();

  const statusTimes: { ms: number; busy: number }[] = [];
  const status = pollStatus(statusTimes, 10);

  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, n) =>
      test.call('POST', '/api/v1/tap/run', { name: 'echo', params: { n } }),
    ),
  );
  clearInterval(sampler);
  await health;
  await status;

  expect(answers.map((a) => a.status)).toEqual(Array(50).fill(200));
  expect(answers.map((a) => a.body.records[0].n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
  expect(peak).toBe(4);
  // /healthz never waits for a run slot.
  expect(Math.max(...healthTimes)).toBeLessThan(1000);
  // Nor does a status query; some were answered while all four slots were taken.
  expect(Math.max(...statusTimes.map((t) => t.ms))).toBeLessThan(1000);
  expect(statusTimes.filter((t) => t.busy === 4).length).toBeGreaterThan(0);
  const runs = (await test.call('GET', '/api/v1/taps/echo/runs?limit=100')).body;
  expect(runs).toHaveLength(50);
});

it('refuses runs past the waiting line with 503 and Retry-After, recording nothing', async () => {
  const small = await startTestApp({ runner: { maxConcurrentRuns: 1, maxQueuedRuns: 1 } });
  try {
    await small.call('PUT', '/api/v1/taps/slow', {
      script: 'import time\ndef fetch():\n    time.sleep(0.5)\n    return [{"a": 1}]\n',
    });
    const answers = await Promise.all(
      [0, 1, 2].map(() => small.call('POST', '/api/v1/tap/run', { name: 'slow' })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503]);
    const refused = answers.find((a) => a.status === 503)!;
    expect(refused.body.error.code).toBe('too_many_runs');
    expect(refused.headers['retry-after']).toBe('5');
    expect((await small.call('GET', '/api/v1/taps/slow/runs')).body).toHaveLength(2);
  } finally {
    await small.close();
  }
});
