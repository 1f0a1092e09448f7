import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadJob } from '../jobs/load-job.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import { runCheckpoints } from './warehouse-checkpoint.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-checkpoint-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

it('leaves the checkpoint of a committed load until the queue runs it', async () => {
  const stagingPath = path.join(dataDir, 'job.ndjson');
  let lines = '';
  for (let id = 0; id < 20_000; id += 1) lines += `{"id": ${id}, "note": "row ${id} of many"}\n`;
  writeFileSync(stagingPath, lines);
  const warehouse = path.join(dataDir, 'warehouse.db');

  const result = await loadJob({
    job: { pipelineToken: 'tok-1', stagingPath, filename: 'job.ndjson' },
    pipeline: pipelineSchema.parse({
      name: 'notes',
      destinations: [{ type: 'sqlite', table: 'notes', writeMode: 'append' }],
    }),
    dataDir,
    emit: async () => undefined,
  });
  expect(result.status).toBe('succeeded');
  const committed = statSync(warehouse).size;
  expect(statSync(`${warehouse}-wal`).size).toBeGreaterThan(500_000);

  let checkpointed = false;
  const checkpoint = runCheckpoints().then(() => (checkpointed = true));
  // The copy runs on a worker thread: this thread's next turn comes before it is done.
  await nextTurn();
  expect(checkpointed).toBe(false);
  await checkpoint;

  // The rows moved from the log into the database file, and the log went with the last connection.
  expect(statSync(warehouse).size).toBeGreaterThan(committed + 500_000);
  expect(existsSync(`${warehouse}-wal`)).toBe(false);
});
