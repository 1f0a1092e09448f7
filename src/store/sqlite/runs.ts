import { parseRecordJson, stringifyRecords } from '../../records/record-json.js';
import type { Run, RunStore } from '../store.js';
import { type Db, fromJson, now, toJson } from './database.js';

interface RunRow {
  id: string;
  tap: string;
  tap_version: number;
  mode: Run['mode'];
  trigger: Run['trigger'];
  params: string;
  status: Run['status'];
  record_count: number;
  records_truncated: number;
  data_type: Run['dataType'];
  columns: string;
  logs: string;
  error: string | null;
  explanation: string | null;
  explanation_source: string | null;
  target_pipeline: string | null;
  persisted: number;
  persisted_reason: Run['persistedReason'];
  publisher_token: string | null;
  pipeline_tokens: string;
  new_state: string | null;
  update_state: number;
  state_committed: number;
  started_at: string;
  finished_at: string | null;
  duration_ms: number | null;
}

function toRun(row: RunRow): Run {
  return {
    id: row.id,
    tap: row.tap,
    tapVersion: row.tap_version,
    mode: row.mode,
    trigger: row.trigger,
    params: parseRecordJson(row.params) as Record<string, unknown>,
    status: row.status,
    recordCount: row.record_count,
    recordsTruncated: row.records_truncated === 1,
    dataType: row.data_type,
    columns: fromJson(row.columns),
    logs: row.logs,
    error: row.error,
    explanation: row.explanation,
    explanationSource: row.explanation_source,
    targetPipeline: row.target_pipeline,
    persisted: row.persisted === 1,
    persistedReason: row.persisted_reason,
    publisherToken: row.publisher_token,
    pipelineTokens: fromJson(row.pipeline_tokens),
    newState: row.new_state === null ? undefined : parseRecordJson(row.new_state),
    updateState: row.update_state === 1,
    stateCommitted: row.state_committed === 1,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs: row.duration_ms,
  };
}

export function sqliteRunStore(db: Db): RunStore {
  const select = db.prepare<[string], RunRow>('SELECT * FROM runs WHERE id = ?');
  const runningRunMode = db.prepare<[string], string>(
    `SELECT id FROM runs WHERE tap = ? AND mode = 'run' AND status = 'running'`,
  );
  const insert = db.prepare(`INSERT INTO runs (id, tap, tap_version, mode, trigger, params,
      status, target_pipeline, update_state, started_at)
    VALUES (@id, @tap, @tapVersion, @mode, @trigger, @params, 'running', @targetPipeline,
      @updateState, @startedAt)`);

  const start = db.transaction((run: Parameters<RunStore['start']>[0]) => {
    if (run.mode === 'run') {
      const running = runningRunMode.pluck().get(run.tap);
      if (running !== undefined) return { started: false as const, runningRunId: running };
    }
    insert.run({
      ...run,
      params: stringifyRecords(run.params),
      updateState: run.updateState ? 1 : 0,
    });
    return { started: true as const };
  });

  const handOverRuns = db.prepare(
    `UPDATE runs SET status = 'success', persisted = 1, persisted_reason = NULL, error = NULL,
       publisher_token = (SELECT publisher_token FROM jobs WHERE jobs.run_id = runs.id LIMIT 1),
       pipeline_tokens = (SELECT json_group_array(pipeline_token) FROM
         (SELECT pipeline_token FROM jobs WHERE jobs.run_id = runs.id ORDER BY seq)),
       record_count = (SELECT sum(record_count) FROM jobs WHERE jobs.run_id = runs.id),
       explanation = @handedOver, explanation_source = 'rules', finished_at = @at
     WHERE status = 'running' AND EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id)`,
  );
  const failRuns = db.prepare(
    `UPDATE runs SET status = 'failure', error = @reason, finished_at = @at,
       persisted_reason = 'run_error' WHERE status = 'running'`,
  );
  const abandon = db.transaction((reason: string, handedOver: string) => {
    const at = now();
    return handOverRuns.run({ handedOver, at }).changes + failRuns.run({ reason, at }).changes;
  });

  return {
    async start(run) {
      return start.immediate(run);
    },
    async finish(id, result) {
      db.prepare(
        `UPDATE runs SET status = @status, record_count = @recordCount,
          records_truncated = @recordsTruncated, data_type = @dataType, columns = @columns,
          logs = @logs, error = @error, explanation = @explanation,
          explanation_source = @explanationSource, persisted = @persisted,
          persisted_reason = @persistedReason, publisher_token = @publisherToken,
          pipeline_tokens = @pipelineTokens, new_state = @newState, finished_at = @finishedAt,
          duration_ms = @durationMs
        WHERE id = @id`,
      ).run({
        ...result,
        id,
        recordsTruncated: result.recordsTruncated ? 1 : 0,
        persisted: result.persisted ? 1 : 0,
        columns: toJson(result.columns),
        pipelineTokens: toJson(result.pipelineTokens),
        newState: result.newState === undefined ? null : stringifyRecords(result.newState),
      });
    },
    async get(id) {
      const row = select.get(id);
      return row ? toRun(row) : undefined;
    },
    async listForTap(tap, page) {
      return db
        .prepare<[string, number, number], RunRow>(
          'SELECT * FROM runs WHERE tap = ? ORDER BY seq DESC LIMIT ? OFFSET ?',
        )
        .all(tap, page.limit, page.offset)
        .map(toRun);
    },
    async last(tap, mode) {
      const row = db
        .prepare<[string, string], RunRow>(
          `SELECT * FROM runs WHERE tap = ? AND mode = ? AND status != 'running'
           ORDER BY seq DESC LIMIT 1`,
        )
        .get(tap, mode);
      return row ? toRun(row) : undefined;
    },
    async running(tap) {
      return db
        .prepare<[string], string>(
          `SELECT id FROM runs WHERE tap = ? AND status = 'running' ORDER BY seq LIMIT 1`,
        )
        .pluck()
        .get(tap);
    },
    async abandonRunning(reason, handedOver) {
      return abandon.immediate(reason, handedOver);
    },
    async markStateCommitted(id) {
      db.prepare('UPDATE runs SET state_committed = 1 WHERE id = ?').run(id);
    },
    async laterStateCommitted(id) {
      const later = db
        .prepare(
          `SELECT 1 FROM runs AS later JOIN runs AS this ON later.tap = this.tap
           WHERE this.id = ? AND later.seq > this.seq AND later.state_committed = 1 LIMIT 1`,
        )
        .get(id);
      return later !== undefined;
    },
    async pendingStateCommits() {
      return db
        .prepare<[], string>(
          `SELECT id FROM runs WHERE update_state = 1 AND state_committed = 0
             AND status IN ('success', 'no_records') AND new_state IS NOT NULL
             AND target_pipeline IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id
               AND jobs.status != 'succeeded')
             AND NOT EXISTS (SELECT 1 FROM runs AS later WHERE later.tap = runs.tap
               AND later.seq > runs.seq AND later.state_committed = 1)
           ORDER BY seq`,
        )
        .pluck()
        .all();
    },
  };
}
