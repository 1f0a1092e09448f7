import type { Job } from '../store/store.js';

export type NewJob = Omit<
  Job,
  'status' | 'attempts' | 'startedAt' | 'finishedAt' | 'createdAt' | 'explanation'
>;

/**
 * Where run-mode runs hand their staged records to be loaded. The embedded queue keeps jobs
 * as rows of the metadata store and works them in this process; a Postgres job-queue library
 * takes this place in server mode.
 */
export interface JobQueue {
  /** Durably records the jobs, then wakes a worker. Resolves once they are stored. */
  submit(jobs: NewJob[]): Promise<void>;
  /** Starts working: first re-queues jobs a dead process left half-done. */
  start(): Promise<void>;
  /** Stops taking jobs and waits for the ones in hand, up to the grace period. */
  stop(graceMs: number): Promise<void>;
  /** Resolves when no job is queued or running (tests and the example use it). */
  idle(): Promise<void>;
}
