import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  api,
  freePort,
  startServerProcess,
  saveEventsTap,
  waitForLoaderStart,
  waitForRollup,
} from '../support/server-process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-crash-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it('finishes a job killed mid-load after a restart, with every row exactly once', async () => {
  // The load must start after the run, from the queue; early-load.test.ts covers the other way.
  writeFileSync(path.join(dataDir, 'tapline.yaml'), 'jobs:\n  earlyLoadAfterBytes: null\n');
  const port = await freePort();
  const first = await startServerProcess(dataDir, port);
  await saveEventsTap(
    first.url,
    `def fetch():
    for i in range(200_000):
        yield {"id": i, "kind": "click", "page": f"/products/{i % 977}", "ms": i * 7 % 1000,
               "agent": "Mozilla/5.0 (X11; Linux x86_64)", "ok": i % 3 == 0}
`,
  );
  const run = await api(first.url, 'POST', '/tap/run', { name: 'events', mode: 'run' });
  expect(run.body.recordCount).toBe(200_000);

  // Kill the server as soon as the loader has begun, before the job has ended.
  const loading = await waitForLoaderStart(first.url, run.body.publisherToken);
  expect(loading.rollup.allDone).toBe(false);
  first.child.kill('SIGKILL');
  await first.exited;

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
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
