import type { NewJobRow } from '../store/store.js';
import type { JobEvent, LoadJobResult } from './load-job.js';

export type NewJob = Omit<NewJobRow, 'createdAt'>;

/** A job's load already under way in this process (an early load, see early-load.ts). */
export type LoadInHand = (
  emit: (event: JobEvent) => Promise<void>,
  signal: AbortSignal,
) => Promise<LoadJobResult>;

/**
 * Where run-mode runs hand their staged records to be loaded. The embedded queue keeps jobs
 * as rows of the metadata store and works them in this process; a Postgres job-queue library
 * takes this place in server mode.
 */
export interface JobQueue {
  /** Durably records the jobs, then wakes a worker. Resolves once they are stored. */
  submit(jobs: NewJob[]): Promise<void>;
  /**
   * Durably records a job whose load this process has already begun, and lets that load finish
   * it here, outside the worker pool. Should the process die first, the job is queued again at
   * the next start like any job left running; a load that stops early (`aborted`) is queued.
   * Resolves false once the queue's grace period for stopping is over: the job is queued for the
   * next start instead and `load` is never called, so the caller must stop it.
   */
  submitInHand(job: NewJob, load: LoadInHand): Promise<boolean>;
  /** Starts working: first re-queues jobs a dead process left half-done. */
  start(): Promise<void>;
  /**
   * Stops taking queued jobs and waits for the ones in hand, loads handed over meanwhile
   * included, up to the grace period; then stops those and queues them again.
   */
  stop(graceMs: number): Promise<void>;
  /** Resolves when no job is queued or running (tests and the example use it). */
  idle(): Promise<void>;
}
