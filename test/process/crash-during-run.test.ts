import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  api,
  freePort,
  startServerProcess,
  saveEventsTap,
  waitForRollup,
} from '../support/server-process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-crash-run-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function stagedBytes(): number {
  const directory = path.join(dataDir, 'staging');
  if (!existsSync(directory)) return 0;
  return readdirSync(directory).reduce(
    (total, name) => total + statSync(path.join(directory, name)).size,
    0,
  );
}

function tableExists(): boolean {
  const db = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
  try {
    return db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'events'`).get() !== undefined;
  } finally {
    db.close();
  }
}

it('a server killed while a script runs and its load has begun keeps nothing of that run', async () => {
  // Loads begin as soon as anything is staged, so this one is writing when the server dies.
  writeFileSync(path.join(dataDir, 'tapline.yaml'), 'jobs:\n  earlyLoadAfterBytes: 0\n');
  const port = await freePort();
  const first = await startServerProcess(dataDir, port);
  await saveEventsTap(
    first.url,
    `import os, time
def fetch():
    for i in range(10_000_000):
        if i % 10_000 == 0:
            time.sleep(0.05)
        yield {"id": i, "page": f"/products/{i % 977}", "ok": i % 2 == 0}
`,
  );
  const running = api(first.url, 'POST', '/tap/run', { name: 'events', mode: 'run' }).catch(
    () => 'connection lost',
  );
  while (stagedBytes() < 2_000_000) await new Promise((resolve) => setTimeout(resolve, 20));
  // The early load has opened the warehouse and is writing inside its transaction.
  expect(existsSync(path.join(dataDir, 'warehouse.db'))).toBe(true);

  first.child.kill('SIGKILL');
  await first.exited;
  expect(await running).toBe('connection lost');

  const second = await startServerProcess(dataDir, port);
  try {
    const runs = await api(second.url, 'GET', '/taps/events/runs');
    expect(runs.body).toHaveLength(1);
    expect(runs.body[0]).toMatchObject({
      status: 'failure',
      error: 'the server stopped while this run was going',
      persisted: false,
    });
    expect(tableExists()).toBe(false);
    expect(readdirSync(path.join(dataDir, 'staging'))).toEqual([]);

    // The warehouse is free for the next run.
    await api(second.url, 'PUT', '/taps/events', {
      name: 'events',
      targetPipeline: 'events',
      script: 'def fetch():\n    return [{"id": 1, "page": "/", "ok": True}]\n',
    });
    const next = await api(second.url, 'POST', '/tap/run', { name: 'events', mode: 'run' });
    const { rollup } = await waitForRollup(second.url, next.body.publisherToken);
    expect(rollup.status).toBe('success');
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
