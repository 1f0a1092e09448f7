import type { Job, JobStore, NewJobRow } from '../store.js';
import { type Db, now } from './database.js';

interface JobRow {
  pipeline_token: string;
  publisher_token: string;
  run_id: string;
  tap: string;
  pipeline: string;
  staging_path: string;
  filename: string;
  status: Job['status'];
  attempts: number;
  record_count: number;
  explanation: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function toJob(row: JobRow): Job {
  return {
    pipelineToken: row.pipeline_token,
    publisherToken: row.publisher_token,
    runId: row.run_id,
    tap: row.tap,
    pipeline: row.pipeline,
    stagingPath: row.staging_path,
    filename: row.filename,
    status: row.status,
    attempts: row.attempts,
    recordCount: row.record_count,
    explanation: row.explanation,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function sqliteJobStore(db: Db): JobStore {
  const select = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE pipeline_token = ?');
  const oldestQueued = db.prepare<[], JobRow>(
    `SELECT * FROM jobs WHERE status = 'queued' ORDER BY seq LIMIT 1`,
  );
  const markRunning = db.prepare(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?
     WHERE pipeline_token = ?`,
  );

  const insert = db.prepare<[NewJobRow]>(
    `INSERT INTO jobs (pipeline_token, publisher_token, run_id, tap, pipeline, staging_path,
      filename, status, record_count, created_at)
     VALUES (@pipelineToken, @publisherToken, @runId, @tap, @pipeline, @stagingPath,
      @filename, 'queued', @recordCount, @createdAt)`,
  );
  const insertRunning = db.transaction((job: NewJobRow): Job => {
    insert.run(job);
    markRunning.run(now(), job.pipelineToken);
    return toJob(select.get(job.pipelineToken)!);
  });

  const claim = db.transaction((): Job | undefined => {
    const row = oldestQueued.get();
    if (!row) return undefined;
    markRunning.run(now(), row.pipeline_token);
    return toJob(select.get(row.pipeline_token)!);
  });

  return {
    async insert(job) {
      insert.run(job);
    },
    async insertRunning(job) {
      return insertRunning(job);
    },
    async get(pipelineToken) {
      const row = select.get(pipelineToken);
      return row ? toJob(row) : undefined;
    },
    async forPublisher(publisherToken) {
      return db
        .prepare<[string], JobRow>('SELECT * FROM jobs WHERE publisher_token = ? ORDER BY seq')
        .all(publisherToken)
        .map(toJob);
    },
    async forPipeline(pipeline, page) {
      return db
        .prepare<[string, number, number], JobRow>(
          'SELECT * FROM jobs WHERE pipeline = ? ORDER BY seq DESC LIMIT ? OFFSET ?',
        )
        .all(pipeline, page.limit, page.offset)
        .map(toJob);
    },
    async claim() {
      return claim.immediate();
    },
    async finish(pipelineToken, outcome) {
      db.prepare(
        `UPDATE jobs SET status = ?, record_count = ?, explanation = ?, finished_at = ?
         WHERE pipeline_token = ?`,
      ).run(outcome.status, outcome.recordCount, outcome.explanation, now(), pipelineToken);
    },
    async requeue(pipelineToken) {
      db.prepare(`UPDATE jobs SET status = 'queued' WHERE pipeline_token = ?`).run(pipelineToken);
    },
    async claimable() {
      const row = db
        .prepare(`SELECT 1 FROM jobs WHERE status IN ('queued', 'running') LIMIT 1`)
        .get();
      return row !== undefined;
    },
    async pendingStagingPaths() {
      return db
        .prepare<[], string>(`SELECT staging_path FROM jobs WHERE status != 'succeeded'`)
        .pluck()
        .all();
    },
    async requeueRunning() {
      return db.prepare(`UPDATE jobs SET status = 'queued' WHERE status = 'running'`).run().changes;
    },
  };
}
