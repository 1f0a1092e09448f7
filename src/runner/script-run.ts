import type { DataType, RunMode, TapKind } from '../store/store.js';

/** Everything the runner needs to execute one tap script once. */
export interface ScriptRunRequest {
  script: string;
  kind: TapKind;
  mode: RunMode;
  /** Per-run params; each becomes TAP_PARAM_<key> (and DATRIS_TAP_PARAM_<key>). */
  params: Record<string, unknown>;
  /** The tap's last committed state, or undefined for none. */
  state: unknown;
  /** Fields of the tap's secret, exposed to the script under their own names. */
  secretEnv: Record<string, string>;
  /** Test mode: stop after this many records; 0 means all. Ignored in run mode. */
  testLimit: number;
  timeoutSeconds: number;
  /**
   * Whose setting timeoutSeconds is: the tap's own timeoutSeconds, or the mode's default
   * (runner.testTimeoutSeconds / runTimeoutSeconds). The timeout message names the one to raise;
   * left out, it names both.
   */
  timeoutSource?: 'tap' | 'mode';
  python: string;
  logBytes: number;
  maxRecordBytes: number;
  /**
   * Memory the script may use: the address space of each of its processes (RLIMIT_AS), and
   * where a memory cgroup can be made, all of the run's processes together.
   */
  memoryBytes: number;
  /*
   * The limits below are optional so that callers built before them keep working; one left
   * out takes its value from sandbox-defaults.ts, the same default the config has.
   */
  /** CPU seconds each process of the script may use (RLIMIT_CPU). */
  cpuSeconds?: number;
  /** Processes (threads too, under a cgroup) the script may have at once. */
  maxProcesses?: number;
  /** Bytes the script may keep in its working directory, its temp files included. */
  maxWorkdirBytes?: number;
  /** Record bytes (NDJSON) one run may produce. */
  maxRunRecordBytes?: number;
  /** Record bytes (NDJSON) a test run may keep in memory for its answer. */
  maxTestRecordBytes?: number;
  /** Bytes the script may print in all before it is stopped (the kept logs are logBytes). */
  maxOutputBytes?: number;
  /** Bytes of one printed line (stdout or stderr) before the script is stopped. */
  maxLogLineBytes?: number;
  /**
   * Run mode: the NDJSON file records stream into as the script yields them. Without it a
   * run-mode run counts its records and keeps none (no target pipeline).
   */
  stagingPath?: string;
  /** Called as the staging file grows, with the bytes written to it so far. */
  onStaged?: (bytes: number) => void;
  /** Aborting kills the script's process group (server shutdown). */
  signal?: AbortSignal;
}

/** Why a script run failed, for the explanation rules; the message is in `error`. */
export type ScriptFailureKind =
  | 'exception'
  | 'syntax_error'
  | 'no_fetch'
  | 'timeout'
  | 'memory_limit'
  | 'record_too_large'
  | 'cpu_limit'
  | 'process_limit'
  | 'disk_limit'
  | 'records_limit'
  | 'output_limit'
  | 'bad_output'
  | 'crashed'
  /** tapline did not start the script: its secret or target pipeline is missing. */
  | 'not_started'
  /** tapline itself failed during the run; the server log has the details. */
  | 'internal'
  | 'aborted';

export interface ScriptRunResult {
  outcome: 'success' | 'failure';
  failureKind: ScriptFailureKind | null;
  /** Test mode: the records (at most testLimit). Run mode: always empty. */
  records: Record<string, unknown>[];
  recordCount: number;
  /** Test mode: true when the script had more records than the limit. */
  recordsTruncated: boolean;
  dataType: DataType | null;
  columns: string[];
  /** stdout and stderr, interleaved in arrival order, capped at logBytes. */
  logs: string;
  error: string | null;
  /** The state the script set (TAP_STATE / DATRIS_STATE / `state` key), if any. */
  newState: unknown;
  stagedBytes: number;
  durationMs: number;
}
