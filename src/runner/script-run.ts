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
  python: string;
  logBytes: number;
  maxRecordBytes: number;
  memoryBytes: number;
  /**
   * Run mode: the NDJSON file records stream into as the script yields them. Without it a
   * run-mode run counts its records and keeps none (no target pipeline).
   */
  stagingPath?: string;
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
  | 'bad_output'
  | 'crashed'
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
