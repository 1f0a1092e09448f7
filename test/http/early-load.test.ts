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

const events = (n: number) => `
import os, time
TAP_STATE = {"cursor": ${n}}
def fetch():
    global TAP_STATE
    for i in range(${n}):
        if i % 5000 == 0:
            time.sleep(0.02)
        yield {"id": i, "page": f"/items/{i % 97}", "big": 2033735037361704962 + i}
    # Still inside the run: the load beside it has opened the warehouse by now.
    warehouse = os.environ.get("TAP_PARAM_warehouse", "")
    TAP_STATE = {"cursor": ${n}, "warehouseOpenDuringRun": os.path.exists(warehouse)}
`;

describe('a load that begins while its script runs', () => {
  it('lands every record exactly once, with the tokens, events and state of any run', async () => {
    await save('pipelines', 'events', {
      destinations: [{ type: 'sqlite', table: 'events', writeMode: 'append' }],
    });
    await save('taps', 'events', { script: events(30_000), targetPipeline: 'events' });
    const request = {
      name: 'events',
      mode: 'run',
      params: { warehouse: path.join(test.dataDir, 'warehouse.db') },
      updateState: true,
    };

    const first = await test.call('POST', '/api/v1/tap/run', request);
    expect(first.body).toMatchObject({ status: 'success', persisted: true, recordCount: 30_000 });
    const { rollup, events: statusEvents } = await waitForLoad(test, first.body.publisherToken);
    expect(rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
    expect(rollup.jobs[0]).toMatchObject({ recordCount: 30_000, lastError: null });
    const stages = statusEvents.map((event: any) => `${event.processName} ${event.state}`);
    expect(stages[0]).toBe('JobRunner begin');
    expect(stages.at(-1)).toBe('JobRunner end');
    const state = await test.call('GET', '/api/v1/taps/events/state');
    expect(state.body.state).toEqual({ cursor: 30_000, warehouseOpenDuringRun: true });

    await test.call('POST', '/api/v1/tap/run', request);
    await test.context.queue.idle();

    // Appended twice: each run's records exactly once.
    expect(count('events')).toBe(60_000);
    const db = new Database(path.join(test.dataDir, 'warehouse.db'), { readonly: true });
    db.defaultSafeIntegers(true);
    expect(
      db.prepare('SELECT count(DISTINCT id) AS ids, max(big) AS big FROM events').get(),
    ).toEqual({
      ids: 30_000n,
      big: 2033735037361734961n,
    });
    db.close();
    expect(readdirSync(path.join(test.dataDir, 'staging'))).toEqual([]);
  });

  it('drops a load begun for a pipeline changed during the run, and loads as the pipeline is now', async () => {
    await save('pipelines', 'moving', {
      destinations: [{ type: 'sqlite', table: 'before_change', writeMode: 'append' }],
    });
    const pausing = events(20_000).replace(
      '        if i % 5000 == 0:',
      '        if i == 10_000:\n            time.sleep(1.5)\n        if i % 5000 == 0:',
    );
    await save('taps', 'moving', { script: pausing, targetPipeline: 'moving' });

    const running = test.call('POST', '/api/v1/tap/run', { name: 'moving', mode: 'run' });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await save('pipelines', 'moving', {
      destinations: [{ type: 'sqlite', table: 'after_change', writeMode: 'append' }],
    });
    const answer = await running;
    await waitForLoad(test, answer.body.publisherToken);

    expect(count('before_change')).toBe('no table');
    expect(count('after_change')).toBe(20_000);
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
