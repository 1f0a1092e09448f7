import Database from 'better-sqlite3';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, waitForLoad } from '../support/test-app.js';

// Every run-mode run here loads early: its job starts while the script still runs.
let test: TestApp;
beforeAll(async () => {
  test = await startTestApp({ jobs: { earlyLoadAfterBytes: 0 } });
});
afterAll(async () => {
  await test.close();
});

function count(table: string): number | 'no table' {
  const file = path.join(test.dataDir, 'warehouse.db');
  if (!existsSync(file)) return 'no table';
  const db = new Database(file, { readonly: true });
  try {
    if (!db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(table)) return 'no table';
    return (db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

async function save(kind: 'taps' | 'pipelines', name: string, body: Record<string, unknown>) {
  const answer = await test.call('PUT', `/api/v1/${kind}/${name}`, { name, ...body });
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
}

const events = (n: number, then = '') => `
import time
TAP_STATE = {"cursor": ${n}}
def fetch():
    for i in range(${n}):
        if i % 5000 == 0:
            time.sleep(0.02)
        yield {"id": i, "page": f"/items/{i % 97}", "big": 2033735037361704962 + i}
${then}`;

describe('a load that begins while its script runs', () => {
  it('lands every record exactly once, with the tokens, events and state of any run', async () => {
    await save('pipelines', 'events', {
      primaryKey: ['id'],
      destinations: [{ type: 'sqlite', table: 'events', writeMode: 'merge' }],
    });
    await save('taps', 'events', { script: events(30_000), targetPipeline: 'events' });

    const first = await test.call('POST', '/api/v1/tap/run', { name: 'events', mode: 'run' });
    expect(first.body).toMatchObject({ status: 'success', persisted: true, recordCount: 30_000 });
    const { rollup, events: statusEvents } = await waitForLoad(test, first.body.publisherToken);
    expect(rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
    expect(rollup.jobs[0]).toMatchObject({ recordCount: 30_000, lastError: null });
    const stages = statusEvents.map((event: any) => `${event.processName} ${event.state}`);
    expect(stages[0]).toBe('JobRunner begin');
    expect(stages.at(-1)).toBe('JobRunner end');

    await test.call('POST', '/api/v1/tap/run', { name: 'events', mode: 'run' });
    await test.context.queue.idle();

    expect(count('events')).toBe(30_000);
    const db = new Database(path.join(test.dataDir, 'warehouse.db'), { readonly: true });
    db.defaultSafeIntegers(true);
    expect(db.prepare('SELECT big FROM events WHERE id = 29999').get()).toEqual({
      big: 2033735037361734961n,
    });
    db.close();
    const state = await test.call('GET', '/api/v1/taps/events/state');
    expect(state.body.state).toEqual({ cursor: 30_000 });
    expect(readdirSync(path.join(test.dataDir, 'staging'))).toEqual([]);
  });

  it('loads nothing when the script fails after yielding, and keeps the state', async () => {
    await save('pipelines', 'broken', {
      destinations: [{ type: 'sqlite', table: 'broken', writeMode: 'append' }],
    });
    const failing = events(20_000).replace(
      '        yield {',
      '        if i == 19_999:\n            raise RuntimeError("source went away")\n        yield {',
    );
    await save('taps', 'broken', { script: failing, targetPipeline: 'broken' });
    await test.call('PUT', '/api/v1/taps/broken/state', { cursor: 7 });

    const answer = await test.call('POST', '/api/v1/tap/run', { name: 'broken', mode: 'run' });

    expect(answer.body).toMatchObject({
      status: 'failure',
      persisted: false,
      persistedReason: 'run_error',
    });
    expect(answer.body.error).toContain('RuntimeError: source went away');
    await test.context.queue.idle();
    expect(count('broken')).toBe('no table');
    expect((await test.call('GET', '/api/v1/taps/broken/state')).body.state).toEqual({
      cursor: 7,
    });
    expect(readdirSync(path.join(test.dataDir, 'staging'))).toEqual([]);
  });
});
