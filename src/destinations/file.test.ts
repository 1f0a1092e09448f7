import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadJob, type JobEvent } from '../jobs/load-job.js';
import { type Pipeline, pipelineSchema, type PipelineInput } from '../pipelines/pipeline-schema.js';
import type { Job } from '../store/store.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-file-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

async function load(pipeline: PipelineInput, ndjson: string, token = 'tok-1') {
  return loadUnchecked(pipelineSchema.parse(pipeline), ndjson, token);
}

/** As `load`, with a pipeline that has not passed the schema. */
async function loadUnchecked(pipeline: Pipeline, ndjson: string, token = 'tok-1') {
  const stagingPath = path.join(dataDir, `${token}.ndjson`);
  writeFileSync(stagingPath, ndjson);
  const job: Job = {
    pipelineToken: token,
    publisherToken: 'pub',
    runId: 'run',
    tap: 'tap',
    pipeline: pipeline.name,
    stagingPath,
    filename: `${token}.ndjson`,
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
    },
  });
  return { result, events };
}

const toFile = (format: 'jsonl' | 'csv', writeMode: 'append' | 'replace' = 'append') => ({
  name: 'orders',
  destinations: [{ type: 'file' as const, path: 'out', format, writeMode }],
});
const read = (name: string) => readFileSync(path.join(dataDir, 'out', name), 'utf8');

describe('file destination', () => {
  it('writes JSON Lines with exact big integers, one file per job, no temp file left', async () => {
    const { events } = await load(
      toFile('jsonl'),
      '{"id": 2033735037361704962, "d": "12345678901234567890.123456789", "n": null}\n' +
        '{"id": 2, "nested": {"a": ["ü"]}}\n',
    );
    expect(read('tok-1.jsonl')).toBe(
      '{"id":2033735037361704962,"d":"12345678901234567890.123456789","n":null}\n' +
        '{"id":2,"nested":{"a":["ü"]}}\n',
    );
    expect(readdirSync(path.join(dataDir, 'out'))).toEqual(['tok-1.jsonl']);
    expect(events.at(-1)).toEqual({
      processName: 'FileLoader',
      state: 'end',
      code: 'info',
      description: `wrote 2 records to ${path.join(dataDir, 'out', 'tok-1.jsonl')}`,
    });
  });

  it('skips a job whose file already exists', async () => {
    await load(toFile('jsonl'), '{"id": 1}\n');
    const again = await load(toFile('jsonl'), '{"id": 1}\n{"id": 99}\n');
    expect(
      again.events.find((event) => event.processName === 'FileLoader' && event.state === 'end')
        ?.description,
    ).toMatch(/already holds this job/);
    expect(read('tok-1.jsonl')).toBe('{"id":1}\n');
  });

  it('writes CSV with proper quoting, null apart from the empty string', async () => {
    await load(
      toFile('csv'),
      '{"id": 1, "text": "plain", "flag": true}\n' +
        '{"id": 2, "text": "a, \\"quoted\\"\\nline", "flag": false}\n' +
        '{"id": 3, "text": "", "flag": null}\n',
    );
    expect(read('tok-1.csv')).toBe(
      'id,text,flag\n1,plain,true\n2,"a, ""quoted""\nline",false\n3,"",\n',
    );
  });

  it('pads earlier CSV rows when a later key adds a column', async () => {
    const many = Array.from({ length: 1_500 }, (_, index) => `{"id": ${index}, "t": "a\\nb"}`);
    await load(toFile('csv'), `${many.join('\n')}\n{"id": 1500, "t": "x", "extra": "e"}\n`);
    const text = read('tok-1.csv');
    expect(text.startsWith('id,t,extra\n0,"a\nb",\n1,"a\nb",\n')).toBe(true);
    expect(text.endsWith('1499,"a\nb",\n1500,x,e\n')).toBe(true);
  });

  it('replace keeps one file named after the pipeline', async () => {
    await load(toFile('jsonl', 'replace'), '{"id": 1}\n', 'tok-a');
    await load(toFile('jsonl', 'replace'), '{"id": 2}\n', 'tok-b');
    expect(readdirSync(path.join(dataDir, 'out'))).toEqual(['orders.jsonl']);
    expect(read('orders.jsonl')).toBe('{"id":2}\n');
  });

  it('refuses a folder inside staging/, creating nothing there', async () => {
    const parsed = pipelineSchema.parse(toFile('jsonl'));
    const folder = path.join(dataDir, 'staging', 'out');
    const pipeline: Pipeline = {
      ...parsed,
      destinations: [{ type: 'file', path: folder, format: 'jsonl', writeMode: 'append' }],
    };
    const { result } = await loadUnchecked(pipeline, '{"id": 1}\n');
    expect(result).toMatchObject({
      status: 'failed',
      error: {
        processName: 'FileLoader',
        description:
          `refusing to load into ${path.join(folder, 'tok-1.jsonl')}: it is inside ` +
          `${path.join(dataDir, 'staging')}, where tapline stages the records of runs; set the ` +
          "destination's path outside it",
      },
    });
    expect(existsSync(path.join(dataDir, 'staging'))).toBe(false);
  });
});
