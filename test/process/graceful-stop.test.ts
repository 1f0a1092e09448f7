import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  api,
  freePort,
  rollupOf,
  startServerProcess,
  saveEventsTap,
  waitForLoaderStart,
  waitForRollup,
} from '../support/server-process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-sigterm-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('on SIGTERM stops a script past the grace period, keeps the load, and loses no row', async () => {
  // A grace period shorter than both the sleeping script and the load, so both are cut short.
  // The load starts after the run, from the queue (early loads are off).
  writeFileSync(
    path.join(dataDir, 'tapline.yaml'),
    'shutdownGraceSeconds: 0.2\njobs:\n  earlyLoadAfterBytes: null\n',
  );
  const port = await freePort();
  const first = await startServerProcess(dataDir, port);
  await saveEventsTap(
    first.url,
    `def fetch():
    for i in range(200_000):
        yield {"id": i, "page": f"/products/{i % 977}", "agent": "Mozilla/5.0 (X11; Linux x86_64)",
               "ref": f"https://example.com/campaign/{i % 31}", "ms": i % 1000, "ok": i % 2 == 0,
               "country": "NZ", "amount": i / 100, "note": "an ordinary row of moderate size"}
`,
  );
  await api(first.url, 'POST', '/taps', {
    name: 'sleeper',
    script: 'import time\ndef fetch():\n    time.sleep(600)\n',
  });
  const run = await api(first.url, 'POST', '/tap/run', { name: 'events', mode: 'run' });
  expect(run.body.recordCount).toBe(200_000);
  const sleeping = api(first.url, 'POST', '/tap/run', { name: 'sleeper' });
  const loading = await waitForLoaderStart(first.url, run.body.publisherToken);
  expect(loading.rollup.allDone).toBe(false);

  first.child.kill('SIGTERM');
  const sleeperAnswer = await sleeping;
  expect(sleeperAnswer.body).toMatchObject({ status: 'failure' });
  expect(sleeperAnswer.body.error).toContain('shutting down');
  expect(await first.exited).toBe(0);
  expect(first.output()).toContain('"msg":"stopped"');
  expect(first.output()).not.toContain('"msg":"job finished"');

  const second = await startServerProcess(dataDir, port);
  try {
    const status = await waitForRollup(second.url, run.body.publisherToken);
    expect(status.rollup.status).toBe('success');
    const db = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events').get()).toEqual(
      {
        n: 200_000,
        ids: 200_000,
      },
    );
    db.close();
    const stored = await api(second.url, 'GET', `/runs/${sleeperAnswer.body.runId}`);
    expect(stored.body).toMatchObject({ status: 'failure', mode: 'test' });
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
}, 120_000);

it('on SIGTERM mid-script, a run that ends within the grace period is loaded before the exit', async () => {
  const earlyDir = mkdtempSync(path.join(tmpdir(), 'tapline-sigterm-early-'));
  try {
    writeFileSync(
      path.join(earlyDir, 'tapline.yaml'),
      'shutdownGraceSeconds: 20\njobs:\n  earlyLoadAfterBytes: 0\n',
    );
    const port = await freePort();
    const first = await startServerProcess(earlyDir, port);
    await saveEventsTap(
      first.url,
      `import time
def fetch():
    for i in range(100_000):
        if i % 10_000 == 0:
            time.sleep(0.2)
        yield {"id": i, "page": f"/products/{i % 977}"}
`,
    );
    const running = api(first.url, 'POST', '/tap/run', { name: 'events', mode: 'run' });
    await new Promise((resolve) => setTimeout(resolve, 700));

    first.child.kill('SIGTERM');
    const run = await running;
    expect(run.body).toMatchObject({ status: 'success', persisted: true, recordCount: 100_000 });
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"job finished"');

    // Loaded before the server exited: the table is complete with no server running.
    const db = new Database(path.join(earlyDir, 'warehouse.db'), { readonly: true });
    expect(db.prepare('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events').get()).toEqual(
      { n: 100_000, ids: 100_000 },
    );
    db.close();
    const second = await startServerProcess(earlyDir, port);
    try {
      const status = await rollupOf(second.url, run.body.publisherToken);
      expect(status.rollup).toMatchObject({ allDone: true, status: 'success' });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  } finally {
    rmSync(earlyDir, { recursive: true, force: true });
  }
}, 120_000);
