/**
 * The metadata store: taps, runs, state, pipelines, jobs, status events, secrets and API keys.
 * Domain services talk only to this interface; `sqlite/` implements it for the embedded mode
 * and a Postgres implementation will sit beside it for server mode, so nothing here may name
 * a SQLite detail. Every method is async for that reason.
 */

export type TapKind = 'structured' | 'document';
export type RunMode = 'run' | 'test';
export type RunTrigger = 'api' | 'cli' | 'schedule' | 'mcp';
export type RunStatus = 'running' | 'success' | 'no_records' | 'failure';
export type PersistedReason = 'test_mode' | 'run_error' | 'no_records' | 'no_target_pipeline';
export type DataType = 'json' | 'csv' | 'document';

export interface Schedule {
  cron: string;
  timezone: string;
}

/** What a user sets on a tap. */
export interface TapSpec {
  name: string;
  description: string;
  kind: TapKind;
  script: string;
  targetPipeline: string | null;
  schedule: Schedule | null;
  enabled: boolean;
  secret: string | null;
  timeoutSeconds: number | null;
}

export interface Tap extends TapSpec {
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface TapVersion {
  tap: string;
  version: number;
  script: string;
  createdAt: string;
}

export interface Run {
  id: string;
  tap: string;
  tapVersion: number;
  mode: RunMode;
  trigger: RunTrigger;
  params: Record<string, unknown>;
  status: RunStatus;
  recordCount: number;
  recordsTruncated: boolean;
  dataType: DataType | null;
  columns: string[];
  logs: string;
  error: string | null;
  explanation: string | null;
  /** `rules`, or the name of the language model that wrote the explanation. */
  explanationSource: string | null;
  targetPipeline: string | null;
  persisted: boolean;
  persistedReason: PersistedReason | null;
  publisherToken: string | null;
  pipelineTokens: string[];
  /** The state the script produced, committed to the tap once its jobs all succeed. */
  newState: unknown;
  /** Whether `newState` may replace the tap's state (run mode, no params, or asked for). */
  updateState: boolean;
  stateCommitted: boolean;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}

export type RunStart = Pick<
  Run,
  'id' | 'tap' | 'tapVersion' | 'mode' | 'trigger' | 'params' | 'targetPipeline' | 'updateState'
> & { startedAt: string };

export type RunFinish = Omit<
  Run,
  | 'id'
  | 'tap'
  | 'tapVersion'
  | 'mode'
  | 'trigger'
  | 'params'
  | 'targetPipeline'
  | 'updateState'
  | 'stateCommitted'
  | 'startedAt'
>;

export interface TapState {
  tap: string;
  state: unknown;
  updatedAt: string;
}

export interface StoredPipeline {
  name: string;
  /** The pipeline JSON as saved (validated by pipelines/). */
  definition: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface Job {
  pipelineToken: string;
  publisherToken: string;
  runId: string;
  tap: string;
  pipeline: string;
  stagingPath: string;
  filename: string;
  status: JobStatus;
  attempts: number;
  recordCount: number;
  /** Plain-language cause of a failed load, for the rollup's lastError. */
  explanation: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export type EventState = 'begin' | 'processing' | 'end';
export type EventCode = 'info' | 'warning' | 'error';

export interface StatusEvent {
  id: number;
  dateTime: string;
  epoch: number;
  pipeline: string;
  processName: string;
  publisherToken: string;
  pipelineToken: string;
  filename: string;
  state: EventState;
  code: EventCode;
  description: string;
}

export type NewStatusEvent = Omit<StatusEvent, 'id' | 'dateTime'>;

export interface StoredSecret {
  name: string;
  fields: string[];
  /** Encrypted values; only secrets/ can open it. */
  sealed: string;
  createdAt: string;
  updatedAt: string;
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface ApiKey {
  name: string;
  role: Role;
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface TapStore {
  list(): Promise<Tap[]>;
  get(name: string): Promise<Tap | undefined>;
  /** Inserts a new tap at version 1; false when the name is taken. */
  create(spec: TapSpec): Promise<Tap | undefined>;
  /** Creates or replaces; a changed script makes a new version. */
  put(spec: TapSpec): Promise<{ tap: Tap; created: boolean }>;
  /** Removes the tap, its versions, runs and state. False when it did not exist. */
  delete(name: string): Promise<boolean>;
  versions(name: string): Promise<TapVersion[]>;
  targeting(pipeline: string): Promise<string[]>;
}

export interface RunStore {
  /**
   * Records a run as started. A run-mode run fails to start (returns the running run's id)
   * when another run-mode run of the same tap is still running.
   */
  start(run: RunStart): Promise<{ started: true } | { started: false; runningRunId: string }>;
  finish(id: string, result: RunFinish): Promise<void>;
  get(id: string): Promise<Run | undefined>;
  listForTap(tap: string, page: { limit: number; offset: number }): Promise<Run[]>;
  last(tap: string, mode: RunMode): Promise<Run | undefined>;
  /** The id of a run of the tap still going (either mode), or undefined. */
  running(tap: string): Promise<string | undefined>;
  /**
   * Settles runs left `running` by a process that died; returns how many. A run that had
   * already handed its records to jobs becomes a success whose record says what was lost (its
   * logs and new state) in `explanation`; any other becomes a failure with `reason`.
   */
  abandonRunning(reason: string, handedOver: string): Promise<number>;
  markStateCommitted(id: string): Promise<void>;
  /** Whether a run of the same tap that started after this one has committed its state. */
  laterStateCommitted(id: string): Promise<boolean>;
  /**
   * Runs with a target pipeline, oldest first, whose new state waits only for its commit:
   * every job succeeded (or there were none), and no later run of the tap committed a state.
   */
  pendingStateCommits(): Promise<string[]>;
}

export interface StateStore {
  get(tap: string): Promise<TapState | undefined>;
  put(tap: string, state: unknown): Promise<TapState>;
  delete(tap: string): Promise<boolean>;
}

export interface PipelineStore {
  list(): Promise<StoredPipeline[]>;
  get(name: string): Promise<StoredPipeline | undefined>;
  create(name: string, definition: Record<string, unknown>): Promise<StoredPipeline | undefined>;
  put(
    name: string,
    definition: Record<string, unknown>,
  ): Promise<{ pipeline: StoredPipeline; created: boolean }>;
  delete(name: string): Promise<boolean>;
}

export type NewJobRow = Omit<
  Job,
  'status' | 'attempts' | 'startedAt' | 'finishedAt' | 'explanation'
>;

export interface JobStore {
  insert(job: NewJobRow): Promise<void>;
  /** Inserts a job already claimed by this process (running, first attempt); returns it. */
  insertRunning(job: NewJobRow): Promise<Job>;
  get(pipelineToken: string): Promise<Job | undefined>;
  forPublisher(publisherToken: string): Promise<Job[]>;
  forPipeline(pipeline: string, page: { limit: number; offset: number }): Promise<Job[]>;
  /** Takes the oldest queued job and marks it running, or undefined when none waits. */
  claim(): Promise<Job | undefined>;
  finish(
    pipelineToken: string,
    outcome: { status: 'succeeded' | 'failed'; recordCount: number; explanation: string | null },
  ): Promise<void>;
  /** Puts one running job back in the queue (its worker was stopped before it finished). */
  requeue(pipelineToken: string): Promise<void>;
  /** Whether any job waits or runs. */
  claimable(): Promise<boolean>;
  /** Puts jobs left `running` by a dead process back in the queue; returns how many. */
  requeueRunning(): Promise<number>;
  /** The staging files of jobs that have not succeeded: still needed for a load or a retry. */
  pendingStagingPaths(): Promise<string[]>;
}

export interface EventStore {
  append(event: NewStatusEvent): Promise<StatusEvent>;
  forPublisher(publisherToken: string): Promise<StatusEvent[]>;
  forPipelineTokens(pipelineTokens: string[]): Promise<StatusEvent[]>;
}

export interface SecretStore {
  list(): Promise<StoredSecret[]>;
  get(name: string): Promise<StoredSecret | undefined>;
  put(name: string, fields: string[], sealed: string): Promise<StoredSecret>;
  delete(name: string): Promise<boolean>;
}

export interface ApiKeyStore {
  list(): Promise<ApiKey[]>;
  count(): Promise<number>;
  create(key: Omit<ApiKey, 'createdAt' | 'lastUsedAt'>): Promise<ApiKey | undefined>;
  findByHash(hash: string): Promise<ApiKey | undefined>;
  touch(name: string): Promise<void>;
  delete(name: string): Promise<boolean>;
}

export interface MetadataStore {
  taps: TapStore;
  runs: RunStore;
  state: StateStore;
  pipelines: PipelineStore;
  jobs: JobStore;
  events: EventStore;
  secrets: SecretStore;
  apiKeys: ApiKeyStore;
  close(): Promise<void>;
}
