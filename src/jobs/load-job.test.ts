import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pipelineSchema, type PipelineInput } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
import type { Job } from '../store/store.js';
import { loadJob, type JobEvent } from './load-job.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-load-job-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

function stage(token: string, lines: (Record<string, unknown> | string)[]): Job {
  const stagingPath = path.join(dataDir, `${token}.ndjson`);
  const text = lines.map((line) => (typeof line === 'string' ? line : stringifyRecords(line)));
  writeFileSync(stagingPath, `${text.join('\n')}\n`);
  return {
    pipelineToken: token,
    publisherToken: 'pub-1',
    runId: 'run-1',
    tap: 'orders',
    pipeline: 'orders',
    stagingPath,
    filename: `${token}.ndjson`,
    status: 'running',
    attempts: 1,
    recordCount: lines.length,
    explanation: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
}

async function run(pipeline: PipelineInput, job: Job, signal?: AbortSignal) {
  const events: JobEvent[] = [];
  const result = await loadJob({
    job,
    pipeline: pipelineSchema.parse(pipeline),
    dataDir,
    emit: async (event) => {
      events.push(event);
    },
    ...(signal ? { signal } : {}),
  });
  return { result, events };
}

function rows(sql: string): unknown[] {
  const db = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

const toTable = { type: 'sqlite', table: 'orders', writeMode: 'append' } as const;
const people = [
  { id: 1, name: 'Ada' },
  { id: 2, name: 'Grace' },
  { id: 3, name: 'Linus' },
];

describe('loadJob', () => {
  it('emits the stages of a simple job in order', async () => {
    const { result, events } = await run(
      { name: 'orders', destinations: [toTable] },
      stage('tok-1', people),
    );
    expect(result).toEqual({ status: 'succeeded', loadedCount: 3, warnings: 0 });
    expect(events).toEqual([
      {
        processName: 'StreamNotifier',
        state: 'begin',
        code: 'info',
        description: 'reading staged records of tok-1.ndjson',
      },
      {
        processName: 'SqliteLoader',
        state: 'begin',
        code: 'info',
        description: "loading into table 'orders' (append) in warehouse.db",
      },
      {
        processName: 'StreamNotifier',
        state: 'processing',
        code: 'info',
        description: '3 records, 70 bytes',
      },
      {
        processName: 'StreamNotifier',
        state: 'end',
        code: 'info',
        description: 'all staged records read',
      },
      {
        processName: 'SqliteLoader',
        state: 'processing',
        code: 'info',
        description: '3 rows written',
      },
      {
        processName: 'SqliteLoader',
        state: 'end',
        code: 'info',
        description: "loaded 3 rows into table 'orders' (append) in warehouse.db",
      },
    ]);
    expect(rows('SELECT id, name FROM orders ORDER BY id')).toEqual(people);
  });

  it('rejects rows that fail a reject rule, counted with reasons in one warning', async () => {
    const job = stage('tok-q', [{ id: 1, name: 'Ada' }, { id: null, name: 'x' }, { name: 'y' }]);
    const pipeline: PipelineInput = {
      name: 'orders',
      quality: [{ field: 'id', check: 'required', onFailure: 'reject' }],
      destinations: [toTable],
    };
    const { result, events } = await run(pipeline, job);

    expect(result).toEqual({ status: 'succeeded', loadedCount: 1, warnings: 1 });
    const quality = events.filter((event) => event.processName === 'DataQuality');
    expect(quality).toEqual([
      { processName: 'DataQuality', state: 'begin', code: 'info', description: 'checking 1 rules' },
      {
        processName: 'DataQuality',
        state: 'processing',
        code: 'warning',
        description:
          "rejected 2 of 3 records: record 2: quality[0] (required on 'id') failed: value " +
          "missing; record 3: quality[0] (required on 'id') failed: value missing",
      },
      {
        processName: 'DataQuality',
        state: 'end',
        code: 'info',
        description: 'checked 3 records: 1 passed, 2 rejected',
      },
    ]);
    expect(rows('SELECT id, name FROM orders')).toEqual([{ id: 1, name: 'Ada' }]);
  });

  it('keeps rows that fail a warn rule and says so in a warning', async () => {
    const job = stage('tok-w', [
      { id: 1, email: 'a@x.org' },
      { id: 2, email: 'nope' },
    ]);
    const pipeline: PipelineInput = {
      name: 'orders',
      quality: [{ field: 'email', check: 'pattern', pattern: '@', onFailure: 'warn' }],
      destinations: [toTable],
    };
    const { result, events } = await run(pipeline, job);
    expect(result.status).toBe('succeeded');
    expect(result.loadedCount).toBe(2);
    expect(events.filter((event) => event.code === 'warning')).toEqual([
      {
        processName: 'DataQuality',
        state: 'processing',
        code: 'warning',
        description:
          "1 warn-rule failure (records kept): record 2: quality[0] (pattern on 'email') " +
          'failed: "nope" does not match /@/',
      },
    ]);
  });

  it('fails the job on a fail rule, naming the rule and a sample, and loads nothing', async () => {
    const job = stage('tok-f', [
      { id: 1, amount: 5 },
      { id: 2, amount: -3 },
      { id: 3, amount: 1 },
    ]);
    const pipeline: PipelineInput = {
      name: 'orders',
      quality: [{ field: 'amount', check: 'min', value: 0, onFailure: 'fail' }],
      destinations: [toTable],
    };
    const { result, events } = await run(pipeline, job);
    const description =
      "record 2: quality[0] (min on 'amount') failed: -3 is below 0; sample value: -3";
    expect(result).toEqual({
      status: 'failed',
      loadedCount: 0,
      warnings: 0,
      error: { processName: 'DataQuality', description },
    });
    expect(events.slice(-2)).toEqual([
      { processName: 'DataQuality', state: 'end', code: 'error', description },
      {
        processName: 'SqliteLoader',
        state: 'end',
        code: 'info',
        description: 'rolled back: nothing loaded by this job',
      },
    ]);
    expect(rows("SELECT name FROM sqlite_master WHERE name = 'orders'")).toEqual([]);
  });

  it('rejects repeated values of a unique field', async () => {
    const job = stage('tok-u', [{ id: 1 }, { id: 2 }, { id: 1 }, { id: '1' }]);
    const pipeline: PipelineInput = {
      name: 'orders',
      quality: [{ field: 'id', check: 'unique' }],
      destinations: [{ type: 'file', path: 'out', format: 'jsonl' }],
    };
    const { result, events } = await run(pipeline, job);
    expect(result.loadedCount).toBe(3);
    expect(events.find((event) => event.code === 'warning')?.description).toBe(
      "rejected 1 of 4 records: record 3: quality[0] (unique on 'id') failed: 1 appeared " +
        'earlier in the job',
    );
  });

  it('renames, drops and trims, with begin and end events', async () => {
    const job = stage('tok-t', [{ id: 1, temp_max: 20.5, secret: 'x', city: '  Oslo ' }]);
    const pipeline: PipelineInput = {
      name: 'orders',
      transform: { rename: { temp_max: 'max_temp_c' }, drop: ['secret'], trimStrings: true },
      destinations: [toTable],
    };
    const { events } = await run(pipeline, job);
    expect(events.filter((event) => event.processName === 'Transformation')).toEqual([
      {
        processName: 'Transformation',
        state: 'begin',
        code: 'info',
        description: 'applying rename 1, drop 1, trim strings',
      },
      {
        processName: 'Transformation',
        state: 'end',
        code: 'info',
        description: 'transformed 1 record',
      },
    ]);
    expect(rows('SELECT * FROM orders')).toEqual([{ id: 1, max_temp_c: 20.5, city: 'Oslo' }]);
  });

  it('never loads a job twice: a re-run finds the marker and skips', async () => {
    const pipeline: PipelineInput = { name: 'orders', destinations: [toTable] };
    const job = stage('tok-again', people);
    await run(pipeline, job);
    const again = await run(pipeline, job);

    expect(again.result.status).toBe('succeeded');
    expect(again.events[2]).toMatchObject({
      processName: 'SqliteLoader',
      state: 'end',
      description: expect.stringMatching(
        /^already loaded 3 rows into table 'orders' at .* \(an earlier attempt of this job\)/,
      ),
    });
    expect(rows('SELECT count(*) AS n FROM orders')).toEqual([{ n: 3 }]);
    expect(
      rows('SELECT pipeline_token, destination, table_name, rows FROM _tapline_loads'),
    ).toEqual([
      { pipeline_token: 'tok-again', destination: 'sqlite', table_name: 'orders', rows: 3 },
    ]);
  });

  it('a load stopped midway leaves nothing, and its re-run loads every record once', async () => {
    const many = Array.from({ length: 5_000 }, (_, index) => ({ id: index, name: `n${index}` }));
    const job = stage('tok-crash', many);
    const pipeline: PipelineInput = { name: 'orders', destinations: [toTable] };

    const controller = new AbortController();
    const events: JobEvent[] = [];
    const stopped = await loadJob({
      job,
      pipeline: pipelineSchema.parse(pipeline),
      dataDir,
      signal: controller.signal,
      emit: async (event) => {
        events.push(event);
        // Its begin event comes before open; once open has taken the warehouse and begun the
        // transaction (before the first batch is read), stop the job, as a shutdown would.
        if (event.processName === 'SqliteLoader') setImmediate(() => controller.abort());
      },
    });
    expect(stopped).toMatchObject({ status: 'failed', aborted: true });
    expect(events.some((event) => event.code === 'error')).toBe(false);
    expect(rows("SELECT name FROM sqlite_master WHERE name = 'orders'")).toEqual([]);

    await run(pipeline, job);
    expect(rows('SELECT count(*) AS n, count(DISTINCT id) AS ids FROM orders')).toEqual([
      { n: 5_000, ids: 5_000 },
    ]);
  });

  it('counts lines that are not JSON objects as rejected', async () => {
    const job = stage('tok-bad', [{ id: 1 }, '{"id": 2', '42', '"text"']);
    const { result, events } = await run({ name: 'orders', destinations: [toTable] }, job);
    expect(result.loadedCount).toBe(1);
    expect(events.filter((event) => event.processName === 'DataQuality')).toMatchObject([
      { state: 'begin' },
      {
        state: 'processing',
        code: 'warning',
        description: expect.stringMatching(
          /^rejected 3 of 4 records: record 2: not JSON .*; record 3: not a JSON object; record 4: not a JSON object$/,
        ),
      },
      { state: 'end', description: 'checked 4 records: 1 passed, 3 rejected' },
    ]);
  });

  it('fails with the staging file missing', async () => {
    const job = { ...stage('tok-missing', people), stagingPath: path.join(dataDir, 'gone') };
    const { result } = await run({ name: 'orders', destinations: [toTable] }, job);
    expect(result.error?.processName).toBe('StreamNotifier');
  });

  it('sends nothing to a webhook when a fail rule stops the job', async () => {
    let requests = 0;
    const server = createServer((request, response) => {
      requests += 1;
      request.resume();
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const job = stage('tok-hook', [{ id: 1 }, { id: null }]);
      const pipeline: PipelineInput = {
        name: 'orders',
        quality: [{ field: 'id', check: 'required', onFailure: 'fail' }],
        destinations: [toTable, { type: 'webhook', url: `http://127.0.0.1:${port}/hook` }],
      };
      const { result, events } = await run(pipeline, job);
      expect(result.error?.processName).toBe('DataQuality');
      expect(requests).toBe(0);
      expect(events.some((event) => event.processName === 'WebhookLoader')).toBe(false);
    } finally {
      server.close();
    }
  });
});
