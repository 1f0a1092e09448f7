import { spawnSync } from 'node:child_process';
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

/** Appends 20,000 rows to table notes of the data directory's warehouse. */
async function loadNotes(pipelineToken: string): Promise<void> {
  const stagingPath = path.join(dataDir, `${pipelineToken}.ndjson`);
  let lines = '';
  for (let id = 0; id < 20_000; id += 1) lines += `{"id": ${id}, "note": "row ${id} of many"}\n`;
  writeFileSync(stagingPath, lines);
  const result = await loadJob({
    job: { pipelineToken, stagingPath, filename: `${pipelineToken}.ndjson` },
    pipeline: pipelineSchema.parse({
      name: 'notes',
      destinations: [{ type: 'sqlite', table: 'notes', writeMode: 'append' }],
    }),
    dataDir,
    emit: async () => undefined,
  });
  expect(result.status).toBe('succeeded');
}

it('leaves the checkpoint of a committed load until the queue runs it', async () => {
  const warehouse = path.join(dataDir, 'warehouse.db');
  await loadNotes('tok-1');
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

it('restarts the log for the next load instead of appending to it', async () => {
  const wal = path.join(dataDir, 'warehouse.db-wal');
  await loadNotes('tok-1');
  const oneLoad = statSync(wal).size;

  // No runCheckpoints between the two: the second load's open copies the first one's log.
  await loadNotes('tok-2');

  // About one load's pages (a few more: the table and its index pages grew); appended, two.
  expect(statSync(wal).size).toBeLessThan(oneLoad * 1.5);
  await runCheckpoints();
});

it('lets a process that checkpointed exit by itself', () => {
  const source = (module: string) =>
    JSON.stringify(path.resolve(import.meta.dirname, '..', module));
  const script = path.join(dataDir, 'checkpoint-and-end.mts');
  writeFileSync(
    script,
    `import { writeFileSync } from 'node:fs';
    import { loadJob } from ${source('jobs/load-job.ts')};
    import { pipelineSchema } from ${source('pipelines/pipeline-schema.ts')};
    import { runCheckpoints } from ${source('destinations/warehouse-checkpoint.ts')};
    const dataDir = ${JSON.stringify(dataDir)};
    writeFileSync(dataDir + '/job.ndjson', '{"id": 1}\\n');
    await loadJob({
      job: { pipelineToken: 't', stagingPath: dataDir + '/job.ndjson', filename: 'job.ndjson' },
      pipeline: pipelineSchema.parse({
        name: 'p', destinations: [{ type: 'sqlite', table: 't', writeMode: 'append' }],
      }),
      dataDir,
      emit: async () => undefined,
    });
    await runCheckpoints();
    console.log('checkpointed');
    `,
  );

  const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
    encoding: 'utf8',
    timeout: 20_000,
  });

  // An idle checkpoint worker must not hold the process open (it was killed at the timeout).
  expect(child.signal).toBeNull();
  expect(child.stdout.trim()).toBe('checkpointed');
  expect(child.status).toBe(0);
});
