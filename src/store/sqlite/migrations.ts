/**
 * Numbered, append-only migrations of the embedded metadata database. A released migration is
 * never edited: a change of schema is a new entry at the end.
 */
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'taps, runs, state, pipelines, jobs, status events, secrets, api keys',
    sql: `
      CREATE TABLE taps (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        kind TEXT NOT NULL,
        script TEXT NOT NULL,
        target_pipeline TEXT,
        schedule TEXT,
        enabled INTEGER NOT NULL,
        secret TEXT,
        timeout_seconds REAL,
        version INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE tap_versions (
        tap TEXT NOT NULL REFERENCES taps(name) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        script TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (tap, version)
      );
      CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        tap TEXT NOT NULL REFERENCES taps(name) ON DELETE CASCADE,
        tap_version INTEGER NOT NULL,
        mode TEXT NOT NULL,
        trigger TEXT NOT NULL,
        params TEXT NOT NULL,
        status TEXT NOT NULL,
        record_count INTEGER NOT NULL DEFAULT 0,
        records_truncated INTEGER NOT NULL DEFAULT 0,
        data_type TEXT,
        columns TEXT NOT NULL DEFAULT '[]',
        logs TEXT NOT NULL DEFAULT '',
        error TEXT,
        explanation TEXT,
        explanation_source TEXT,
        target_pipeline TEXT,
        persisted INTEGER NOT NULL DEFAULT 0,
        persisted_reason TEXT,
        publisher_token TEXT,
        pipeline_tokens TEXT NOT NULL DEFAULT '[]',
        new_state TEXT,
        update_state INTEGER NOT NULL,
        state_committed INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms INTEGER
      );
      CREATE INDEX runs_by_tap ON runs (tap, seq DESC);
      CREATE INDEX runs_by_publisher ON runs (publisher_token);
      -- One run-mode run per tap at a time, enforced by the database so that two processes
      -- sharing it cannot both start one.
      CREATE UNIQUE INDEX one_running_run_per_tap ON runs (tap)
        WHERE mode = 'run' AND status = 'running';
      CREATE TABLE tap_state (
        tap TEXT PRIMARY KEY REFERENCES taps(name) ON DELETE CASCADE,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE pipelines (
        name TEXT PRIMARY KEY,
        definition TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        pipeline_token TEXT NOT NULL UNIQUE,
        publisher_token TEXT NOT NULL,
        run_id TEXT NOT NULL,
        tap TEXT NOT NULL,
        pipeline TEXT NOT NULL,
        staging_path TEXT NOT NULL,
        filename TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        record_count INTEGER NOT NULL DEFAULT 0,
        explanation TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX jobs_by_publisher ON jobs (publisher_token);
      CREATE INDEX jobs_by_pipeline ON jobs (pipeline, seq DESC);
      CREATE INDEX jobs_queued ON jobs (status, seq);
      CREATE TABLE status_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        date_time TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        pipeline TEXT NOT NULL,
        process_name TEXT NOT NULL,
        publisher_token TEXT NOT NULL,
        pipeline_token TEXT NOT NULL,
        filename TEXT NOT NULL,
        state TEXT NOT NULL,
        code TEXT NOT NULL,
        description TEXT NOT NULL
      );
      CREATE INDEX events_by_publisher ON status_events (publisher_token, id);
      CREATE INDEX events_by_job ON status_events (pipeline_token, id);
      CREATE TABLE secrets (
        name TEXT PRIMARY KEY,
        fields TEXT NOT NULL,
        sealed TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE api_keys (
        name TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'jobs by run, for the recovery of runs a stopped server left unfinished',
    sql: `CREATE INDEX jobs_by_run ON jobs (run_id, seq);`,
  },
];
