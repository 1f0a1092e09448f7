import type { FieldType, Pipeline } from '../pipelines/pipeline-schema.js';

/** Records ready for destinations: past quality, transform and the schema stage. */
export interface LoadBatch {
  records: readonly Record<string, unknown>[];
  /** Every typed field known so far (declared, or inferred by the schema stage). */
  fields: ReadonlyMap<string, FieldType>;
}

/** A record the destination itself refused (its table did not fit it); counted, not fatal. */
export interface LoaderReject {
  reason: string;
}

export type LoaderFailure = { ok: false; message: string };

export type OpenOutcome =
  | { ok: true; alreadyLoaded: false }
  /** An earlier attempt of this job already landed here; nothing is written again. */
  | { ok: true; alreadyLoaded: true; description: string }
  | LoaderFailure;

export type WriteOutcome = { ok: true; written: number; rejected: LoaderReject[] } | LoaderFailure;

export type FinishOutcome = { ok: true; loaded: number; description: string } | LoaderFailure;

/**
 * One destination's load of one job. The job calls open, write for each batch, then finish
 * (or abort when the job fails). Outcomes a user can cause (a refused request, a full disk, a
 * collision of column names) come back as `{ok: false, message}`; the message becomes the
 * loader's error event.
 */
export interface DestinationLoader {
  /** The process name on status events: SqliteLoader, FileLoader, WebhookLoader. */
  readonly processName: string;
  /**
   * True when nothing written is visible until finish, so the loader can be fed while the job
   * is still being read and checked. A loader that cannot take writes back (a webhook) is fed
   * only once the whole job has passed its `fail` rules.
   */
  readonly transactional: boolean;
  /**
   * Set by a loader that takes an exclusive lock at open (a warehouse file). A job opens such
   * loaders in this key's order, so two jobs never each hold one lock while waiting on the other.
   */
  readonly lockKey?: string;
  /** Where the records go, for the begin event: "table 'weather' (merge) in warehouse.db". */
  readonly target: string;
  open(): Promise<OpenOutcome>;
  write(batch: LoadBatch): Promise<WriteOutcome>;
  finish(): Promise<FinishOutcome>;
  /** Undoes what can be undone and releases what open took; never throws. */
  abort(): Promise<void>;
}

/** What every loader knows about the job it loads. */
export interface LoadContext {
  pipeline: Pipeline;
  pipelineToken: string;
  dataDir: string;
  /** primaryKey as it reads after the transform's renames. */
  primaryKey: string[];
  signal?: AbortSignal;
  /**
   * Set for a load that begins while its script still runs (jobs/early-load.ts). Until the run
   * has ended and handed it its job (`adopted`), it takes a lock only when no other load holds
   * or waits for it, and calls `giveWay` when it cannot, or when another load asks for one it
   * holds; the early load then stops and the job is loaded the usual way.
   */
  early?: { readonly adopted: boolean; giveWay(): void };
}
