import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/test-app.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
import { type JobEvent, loadJob } from './load-job.js';

const pipelineInput = {
  name: 'orders',
  destinations: [{ type: 'sqlite', table: 'orders', writeMode: 'append' }],
} as const;

let test: TestApp;
beforeEach(async () => {
  test = await startTestApp();
  const created = await test.call('POST', '/api/v1/pipelines', pipelineInput);
  expect(created.status).toBe(201);
});
afterEach(() => test.close());

function stage(name: string, records: Record<string, unknown>[]): string {
  const stagingPath = path.join(test.dataDir, `${name}.ndjson`);
  writeFileSync(stagingPath, records.map((record) => `${stringifyRecords(record)}\n`).join(''));
  return stagingPath;
}

async function eventsOf(pipelineToken: string): Promise<JobEvent[]> {
  const { body } = await test.call('GET', `/api/v1/pipeline/status?pipelinetoken=${pipelineToken}`);
  return body;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('EmbeddedQueue.stop', () => {
  it('requeues a job waiting for the warehouse instead of waiting for its holder', async () => {
    // Another load of the same warehouse, held open (lock taken) until the test lets it go.
    let letGo!: () => void;
    const gate = new Promise<void>((resolve) => (letGo = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const holder = loadJob({
      job: {
        pipelineToken: 'tok-holder',
        stagingPath: stage('holder', [{ id: 1 }, { id: 2 }, { id: 3 }]),
        filename: 'holder.ndjson',
      },
      pipeline: pipelineSchema.parse(pipelineInput),
      dataDir: test.dataDir,
      emit: async (event) => {
        if (event.processName === 'StreamNotifier' && event.state === 'processing') {
          holding();
          await gate;
        }
      },
    });
    await held;

    await test.context.queue.submit([
      {
        pipelineToken: 'tok-blocked',
        publisherToken: 'pub-blocked',
        runId: 'run-blocked',
        tap: 'orders',
        pipeline: 'orders',
        stagingPath: stage('blocked', [{ id: 10 }, { id: 11 }]),
        filename: 'blocked.ndjson',
        recordCount: 2,
      },
    ]);
    // The SqliteLoader's begin event comes just before it asks for the warehouse.
    await until(async () =>
      (await eventsOf('tok-blocked')).some((event) => event.processName === 'SqliteLoader'),
    );

    const startedAt = Date.now();
    const outcome = await Promise.race([
      test.context.queue.stop(100).then(() => 'stopped'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting for the holder'), 5_000)),
    ]);

    expect(outcome).toBe('stopped');
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect((await test.context.store.jobs.get('tok-blocked'))?.status).toBe('queued');
    const events = await eventsOf('tok-blocked');
    expect(events.filter((event) => event.code === 'error')).toEqual([]);
    expect(events.filter((event) => event.state === 'end')).toEqual([]);

    letGo();
    expect(await holder).toMatchObject({ status: 'succeeded', loadedCount: 3 });
    const db = new Database(path.join(test.dataDir, 'warehouse.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT id FROM orders ORDER BY id').pluck().all()).toEqual([1, 2, 3]);
    } finally {
      db.close();
    }
  });
});
