import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadJob, type JobEvent } from '../jobs/load-job.js';
import { type Pipeline, pipelineSchema, type PipelineInput } from '../pipelines/pipeline-schema.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Job } from '../store/store.js';

let dataDir: string;
let jobs = 0;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-sqlite-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** Stages NDJSON text as a tap would and loads it as a new job. */
async function load(pipeline: PipelineInput, ndjson: string, onEvent?: (e: JobEvent) => void) {
  return loadUnchecked(pipelineSchema.parse(pipeline), ndjson, onEvent);
}

/** As `load`, with a pipeline that has not passed the schema. */
async function loadUnchecked(pipeline: Pipeline, ndjson: string, onEvent?: (e: JobEvent) => void) {
  jobs += 1;
  const stagingPath = path.join(dataDir, `job-${jobs}.ndjson`);
  writeFileSync(stagingPath, ndjson);
  const job: Job = {
    pipelineToken: `tok-${jobs}`,
    publisherToken: 'pub',
    runId: 'run',
    tap: 'tap',
    pipeline: 'p',
    stagingPath,
    filename: path.basename(stagingPath),
    status: 'running',
    attempts: 1,
    recordCount: 0,
    explanation: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  const events: JobEvent[] = [];
  const result = await loadJob({
    job,
    pipeline,
    dataDir,
    emit: async (event) => {
      events.push(event);
      onEvent?.(event);
    },
  });
  return { result, events };
}

function query(sql: string): unknown[] {
  const db = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}

const lines = (...records: string[]) => `${records.join('\n')}\n`;
const into = (writeMode: string, extra: Partial<PipelineInput> = {}): PipelineInput => ({
  name: 'p',
  destinations: [{ type: 'sqlite', table: 'people', writeMode: writeMode as 'append' }],
  ...extra,
});

describe('sqlite destination', () => {
  it('lands 64-bit integers, decimals, booleans, null, unicode and nested JSON exactly', async () => {
    const pipeline = into('append', {
      schema: [
        { name: 'id', type: 'integer' },
        { name: 'price', type: 'decimal' },
        { name: 'seen', type: 'timestamp' },
      ],
    });
    const { result } = await load(
      pipeline,
      lines(
        '{"id": 2033735037361704962, "price": "12345678901234567890.123456789", "ok": true, ' +
          '"note": null, "name": "Zoë 🚀 東京", "tags": {"a": [1, {"b": null}]}, ' +
          '"seen": "2024-05-01T12:00:00.123456Z"}',
        '{"id": -9223372036854775808, "price": 0.1, "ok": false, "note": "x", "name": "", ' +
          '"tags": [], "seen": null}',
      ),
    );
    expect(result.status).toBe('succeeded');
    expect(query('SELECT * FROM people ORDER BY id DESC')).toEqual([
      {
        id: 2033735037361704962n,
        price: '12345678901234567890.123456789',
        seen: '2024-05-01T12:00:00.123456Z',
        ok: 1n,
        name: 'Zoë 🚀 東京',
        tags: '{"a":[1,{"b":null}]}',
        note: null,
      },
      {
        id: -9223372036854775808n,
        price: '0.1',
        seen: null,
        ok: 0n,
        name: '',
        tags: '[]',
        note: 'x',
      },
    ]);
    const columns = query("SELECT name, type FROM pragma_table_info('people')");
    expect(columns).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'price', type: 'DECIMAL TEXT' },
      { name: 'seen', type: 'TIMESTAMP TEXT' },
      { name: 'ok', type: 'BOOLEAN INTEGER' },
      { name: 'name', type: 'TEXT' },
      { name: 'tags', type: 'JSON TEXT' },
      { name: 'note', type: 'TEXT' },
    ]);
  });

  it('merge on id run twice leaves the same rows, updated', async () => {
    const pipeline = into('merge', { primaryKey: ['id'] });
    const batch = lines('{"id": 1, "v": "a"}', '{"id": 2, "v": "b"}', '{"id": 1, "v": "c"}');
    await load(pipeline, batch);
    await load(pipeline, batch);
    await load(pipeline, lines('{"id": 2, "v": "B"}', '{"id": 3, "v": "d"}'));
    expect(query('SELECT id, v FROM people ORDER BY id')).toEqual([
      { id: 1n, v: 'c' },
      { id: 2n, v: 'B' },
      { id: 3n, v: 'd' },
    ]);
  });

  it('merge rejects a record without its key, and the job counts only the rows written', async () => {
    const { events, result } = await load(
      into('merge', { primaryKey: ['id'] }),
      lines('{"id": 1}', '{"v": 2}'),
    );
    expect(events.find((event) => event.code === 'warning')).toEqual({
      processName: 'SqliteLoader',
      state: 'processing',
      code: 'warning',
      description: 'rejected 1 record: primary key (id) is missing or null',
    });
    expect(result.loadedCount).toBe(1);
  });

  it('append adds every job', async () => {
    await load(into('append'), lines('{"id": 1}'));
    await load(into('append'), lines('{"id": 1}', '{"id": 2}'));
    expect(query('SELECT count(*) AS n FROM people')).toEqual([{ n: 3n }]);
  });

  it('replace swaps the contents atomically: readers see old rows until the commit', async () => {
    await load(into('append'), lines('{"id": 1}', '{"id": 2}'));
    const seenDuringLoad: unknown[] = [];
    await load(into('replace'), lines('{"id": 7}'), (event) => {
      if (event.processName === 'SqliteLoader' && event.state === 'processing') {
        seenDuringLoad.push(...query('SELECT id FROM people ORDER BY id'));
      }
    });
    expect(seenDuringLoad).toEqual([{ id: 1n }, { id: 2n }]);
    expect(query('SELECT id FROM people')).toEqual([{ id: 7n }]);
  });

  it('refuses two keys that fold to one column, naming both', async () => {
    const { result, events } = await load(into('append'), lines('{"Name": "a", "name": "b"}'));
    const description =
      "keys 'Name' and 'name' both become column 'name' (column names are lowercased and " +
      'non [a-z0-9_] characters become _); rename one of them in the pipeline transform';
    expect(result.error).toEqual({ processName: 'SqliteLoader', description });
    expect(events.at(-1)).toEqual({
      processName: 'SqliteLoader',
      state: 'end',
      code: 'error',
      description,
    });

    const later = await load(into('append'), lines('{"na!e": 1}', '{"na%e": 2}'));
    expect(later.result.error?.description).toMatch(/^keys 'na!e' and 'na%e' both become column/);
  });

  it('evolve adds a column when a later load brings a new key', async () => {
    await load(into('append'), lines('{"id": 1}'));
    await load(into('append'), lines('{"id": 2, "Colour": "red"}'));
    expect(query('SELECT id, colour FROM people ORDER BY id')).toEqual([
      { id: 1n, colour: null },
      { id: 2n, colour: 'red' },
    ]);
  });

  it('freeze rejects records that do not fit the table', async () => {
    await load(into('append', { schemaPolicy: 'freeze' }), lines('{"id": 1}'));
    const { result, events } = await load(
      into('append', { schemaPolicy: 'freeze' }),
      lines('{"id": 2}', '{"id": 3, "extra": true}'),
    );
    expect(result.status).toBe('succeeded');
    expect(events.find((event) => event.code === 'warning')?.description).toBe(
      "rejected 1 record: field 'extra' has no column in table 'people' (schemaPolicy freeze)",
    );
    expect(query('SELECT id FROM people ORDER BY id')).toEqual([{ id: 1n }, { id: 2n }]);
  });

  it('freeze with a declared schema rejects keys outside it', async () => {
    const pipeline = into('append', {
      schemaPolicy: 'freeze',
      schema: [{ name: 'id', type: 'integer' }],
    });
    const { events } = await load(pipeline, lines('{"id": 1}', '{"id": 2, "x": 1}'));
    expect(events.find((event) => event.code === 'warning')?.description).toBe(
      "rejected 1 of 2 records: record 2: field 'x' is not in the schema (schemaPolicy freeze)",
    );
  });

  it('converts values without loss and rejects the rest, by the one rule', async () => {
    const pipeline = into('append', {
      schema: [
        { name: 'n', type: 'integer' },
        { name: 'flag', type: 'boolean' },
        { name: 'label', type: 'string' },
      ],
    });
    const { result, events } = await load(
      pipeline,
      lines('{"n": "42", "flag": "true", "label": 7}', '{"n": "4.5", "flag": true, "label": "x"}'),
    );
    expect(result.loadedCount).toBe(1);
    expect(query('SELECT n, flag, label FROM people')).toEqual([{ n: 42n, flag: 1n, label: '7' }]);
    expect(events.find((event) => event.code === 'warning')?.description).toBe(
      `rejected 1 of 2 records: record 2: field 'n': "4.5" is not an integer`,
    );
  });

  it('loads into another file when the destination names a path', async () => {
    const pipeline: PipelineInput = {
      name: 'p',
      destinations: [{ type: 'sqlite', table: 't', writeMode: 'append', path: 'other/w.db' }],
    };
    await load(pipeline, lines('{"id": 1}'));
    const db = new Database(path.join(dataDir, 'other', 'w.db'), { readonly: true });
    expect(db.prepare('SELECT id FROM t').all()).toEqual([{ id: 1 }]);
    db.close();
  });

  it('widens an inferred integer to number when later batches bring fractions', async () => {
    // The first batch (128 records) infers amount as integer; the later ones carry 2.5.
    const records = Array.from({ length: 200 }, (_, index) =>
      JSON.stringify({ id: index + 1, amount: index < 130 ? 2 : 2.5 }),
    );
    const { result, events } = await load(into('append'), lines(...records));
    expect(result).toMatchObject({ status: 'succeeded', loadedCount: 200, warnings: 0 });
    expect(events.filter((event) => event.code === 'warning')).toEqual([]);
    expect(
      query(
        'SELECT typeof(amount) AS kind, count(*) AS n, sum(amount) AS total FROM people ' +
          'GROUP BY kind ORDER BY kind',
      ),
    ).toEqual([
      { kind: 'integer', n: 130n, total: 260n },
      { kind: 'real', n: 70n, total: 175 },
    ]);
    expect(query("SELECT type FROM pragma_table_info('people') WHERE name = 'amount'")).toEqual([
      { type: 'INTEGER' },
    ]);
  });

  it('loads an inferred number into a column an earlier job made INTEGER', async () => {
    await load(into('append'), lines('{"amount": 2}'));
    const { result } = await load(into('append'), lines('{"amount": 2.5}', '{"amount": 3}'));
    expect(result).toMatchObject({ status: 'succeeded', loadedCount: 2, warnings: 0 });
    expect(query('SELECT amount FROM people ORDER BY rowid')).toEqual([
      { amount: 2n },
      { amount: 2.5 },
      { amount: 3n },
    ]);
  });

  it('keeps rejecting fractions for a declared field, in the stage and at the column', async () => {
    await load(into('append'), lines('{"amount": 2}'));
    const declaredInteger = into('append', { schema: [{ name: 'amount', type: 'integer' }] });
    const integer = await load(declaredInteger, lines('{"amount": 2.5}'));
    expect(integer.events.find((event) => event.code === 'warning')?.description).toBe(
      "rejected 1 of 1 record: record 1: field 'amount': 2.5 is not an integer",
    );
    const declaredNumber = into('append', { schema: [{ name: 'amount', type: 'number' }] });
    const number = await load(declaredNumber, lines('{"amount": 2.5}'));
    expect(number.events.find((event) => event.code === 'warning')?.description).toBe(
      "rejected 1 record: field 'amount': 2.5 is not an integer (column type of 'people')",
    );
    expect(query('SELECT amount FROM people')).toEqual([{ amount: 2n }]);
  });

  it('infers decimal for an integer outside 64 bits, so every value lands exactly', async () => {
    const { result } = await load(
      into('append'),
      lines('{"id": 1, "big": 1180591620717411303424}', '{"id": 2, "big": 5}'),
    );
    expect(result).toMatchObject({ status: 'succeeded', loadedCount: 2, warnings: 0 });
    expect(query('SELECT id, big FROM people ORDER BY id')).toEqual([
      { id: 1n, big: '1180591620717411303424' },
      { id: 2n, big: '5' },
    ]);
    expect(query("SELECT name, type FROM pragma_table_info('people')")).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'big', type: 'DECIMAL TEXT' },
    ]);
  });
});

describe('sqlite destination paths', () => {
  /** A pipeline into `file` built past the schema, which would refuse it at save. */
  function intoFile(file: string): Pipeline {
    const pipeline = pipelineSchema.parse({
      name: 'p',
      destinations: [{ type: 'sqlite', table: 't' }],
    });
    return {
      ...pipeline,
      destinations: [{ type: 'sqlite', table: 'tap_state', writeMode: 'append', path: file }],
    };
  }

  it('refuses to load into the metadata database, which stays byte for byte as it was', async () => {
    const store = openSqliteStore(dataDir);
    await store.pipelines.create('kept', { name: 'kept' });
    await store.close();
    const metadata = path.join(dataDir, 'tapline.db');
    const before = readFileSync(metadata);
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'tapline-link-'));
    symlinkSync(metadata, path.join(elsewhere, 'w.db'));

    for (const file of ['tapline.db', metadata, path.join(elsewhere, 'w.db')]) {
      const { result, events } = await loadUnchecked(intoFile(file), lines('{"id": 1}'));
      const message =
        `refusing to load into ${path.resolve(dataDir, file)}: it is tapline's metadata ` +
        "database; set the destination's path to a file of its own";
      expect(result).toMatchObject({
        status: 'failed',
        loadedCount: 0,
        error: { processName: 'SqliteLoader', description: message },
      });
      expect(events.at(-1)).toEqual({
        processName: 'SqliteLoader',
        state: 'end',
        code: 'error',
        description: message,
      });
    }
    rmSync(elsewhere, { recursive: true });

    expect(readFileSync(metadata).equals(before)).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.startsWith('tapline.db'))).toEqual([
      'tapline.db',
    ]);
    const reopened = openSqliteStore(dataDir);
    expect((await reopened.pipelines.list()).map((pipeline) => pipeline.name)).toEqual(['kept']);
    await reopened.close();
  });

  it('refuses the secret key file and anything under staging/, creating nothing', async () => {
    writeFileSync(path.join(dataDir, 'secret.key'), 'key\n');
    const secret = await loadUnchecked(intoFile('secret.key'), lines('{"id": 1}'));
    expect(secret.result.error?.description).toBe(
      `refusing to load into ${path.join(dataDir, 'secret.key')}: it is tapline's secret key ` +
        "file; set the destination's path to a file of its own",
    );
    expect(readFileSync(path.join(dataDir, 'secret.key'), 'utf8')).toBe('key\n');

    const staged = path.join(dataDir, 'staging', 'w.db');
    const staging = await loadUnchecked(intoFile(staged), lines('{"id": 1}'));
    expect(staging.result.error?.description).toBe(
      `refusing to load into ${staged}: it is inside ${path.join(dataDir, 'staging')}, where ` +
        "tapline stages the records of runs; set the destination's path outside it",
    );
    expect(existsSync(path.join(dataDir, 'staging'))).toBe(false);
  });

  it('loads into an absolute path outside the data directory', async () => {
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'tapline-elsewhere-'));
    try {
      const file = path.join(elsewhere, 'tapline-warehouse.db');
      const { result } = await load(
        { name: 'p', destinations: [{ type: 'sqlite', table: 't', path: file }] },
        lines('{"id": 1}'),
      );
      expect(result).toMatchObject({ status: 'succeeded', loadedCount: 1 });
      const db = new Database(file, { readonly: true });
      expect(db.prepare('SELECT id FROM t').all()).toEqual([{ id: 1 }]);
      db.close();
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
