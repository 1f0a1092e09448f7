import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockWarehouse } from '../destinations/warehouse-lock.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import { EarlyLoad } from './early-load.js';
import { type JobEvent, loadJob } from './load-job.js';
import { StagingProgress } from './staging-progress.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-early-load-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const pipeline = pipelineSchema.parse({
  name: 'events',
  destinations: [{ type: 'sqlite', table: 'events', writeMode: 'append' }],
});

function lines(from: number, to: number): string {
  let text = '';
  for (let id = from; id < to; id += 1) text += `{"id": ${id}, "page": "/items/${id % 7}"}\n`;
  return text;
}

/** A staging file its run is writing, and an early load following it. */
function stageAndFollow(token: string) {
  const stagingPath = path.join(dataDir, `${token}.ndjson`);
  writeFileSync(stagingPath, '');
  const progress = new StagingProgress();
  let size = 0;
  const write = (text: string) => {
    appendFileSync(stagingPath, text);
    size += Buffer.byteLength(text);
    progress.advance(size);
  };
  const load = new EarlyLoad({
    job: { pipelineToken: token, stagingPath, filename: `${token}.ndjson` },
    pipeline,
    dataDir,
    progress,
  });
  return { load, write, end: () => progress.end(size), stagingPath };
}

function tableRows(): number | 'no table' {
  const file = path.join(dataDir, 'warehouse.db');
  if (!existsSync(file)) return 'no table';
  const db = new Database(file, { readonly: true });
  try {
    const table = db.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'events'`).get();
    if (!table) return 'no table';
    return (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Lets the early load read and write what was staged so far. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

function recorder() {
  const events: JobEvent[] = [];
  return { events, emit: async (event: JobEvent) => void events.push(event) };
}

describe('EarlyLoad', () => {
  it('loads while its file grows, shows nothing before adoption, then commits it all', async () => {
    const staged = stageAndFollow('tok-early');
    staged.write(lines(0, 3000));
    await settle();
    expect(tableRows()).toBe('no table');

    staged.write(lines(3000, 5000));
    staged.end();
    const { events, emit } = recorder();
    const result = await staged.load.adopt(emit, new AbortController().signal);

    expect(result).toEqual({ status: 'succeeded', loadedCount: 5000, warnings: 0 });
    expect(tableRows()).toBe(5000);
    expect(events[0]).toMatchObject({ processName: 'StreamNotifier', state: 'begin' });
    expect(events.at(-1)).toMatchObject({ processName: 'SqliteLoader', state: 'end' });
    expect(events.find((event) => event.state === 'processing')?.description).toBe(
      `5000 records, ${Buffer.byteLength(lines(0, 5000))} bytes`,
    );
  });

  it('commits nothing once the file has ended until the run hands it the job', async () => {
    const staged = stageAndFollow('tok-ended');
    staged.write(lines(0, 3000));
    staged.end();
    await settle();
    expect(tableRows()).toBe('no table');

    // The run failed after all (say its job could not be recorded): nothing may remain.
    await staged.load.cancel();

    expect(tableRows()).toBe('no table');
  });

  it('rolls everything back when the run ends without a job', async () => {
    const staged = stageAndFollow('tok-cancel');
    staged.write(lines(0, 4000));
    await settle();

    await staged.load.cancel();

    expect(tableRows()).toBe('no table');
    // The warehouse is free again: a lock is granted at once.
    const release = await lockWarehouse(path.join(dataDir, 'warehouse.db'));
    release();
  });

  it('gives the warehouse to a queued job that asks for it, and is not loaded itself', async () => {
    const staged = stageAndFollow('tok-yield');
    staged.write(lines(0, 2000));
    await settle();

    const queuedPath = path.join(dataDir, 'queued.ndjson');
    writeFileSync(queuedPath, lines(100_000, 100_010));
    const queued = await loadJob({
      job: { pipelineToken: 'tok-queued', stagingPath: queuedPath, filename: 'queued.ndjson' },
      pipeline,
      dataDir,
      emit: async () => undefined,
    });

    expect(queued).toMatchObject({ status: 'succeeded', loadedCount: 10 });
    expect(staged.load.gaveWay).toBe(true);
    staged.end();
    const { events, emit } = recorder();
    const adopted = await staged.load.adopt(emit, new AbortController().signal);
    expect(adopted).toMatchObject({ status: 'failed', aborted: true });
    expect(events.filter((event) => event.code === 'error')).toEqual([]);
    expect(tableRows()).toBe(10);
  });

  it('gives way at once when another load holds the warehouse', async () => {
    const release = await lockWarehouse(path.join(dataDir, 'warehouse.db'));
    const staged = stageAndFollow('tok-busy');
    staged.write(lines(0, 100));
    await settle();
    release();

    expect(staged.load.gaveWay).toBe(true);
    await staged.load.cancel();
    expect(tableRows()).toBe('no table');
  });

  it('stops like any job when the queue stops it after adoption', async () => {
    const staged = stageAndFollow('tok-stop');
    staged.write(lines(0, 1000));
    const stop = new AbortController();
    const { emit } = recorder();
    const adopted = staged.load.adopt(emit, stop.signal);

    stop.abort('stopped: the server is shutting down');

    expect(await adopted).toMatchObject({
      status: 'failed',
      aborted: true,
      error: { description: 'stopped: the server is shutting down' },
    });
    expect(tableRows()).toBe('no table');
  });
});
