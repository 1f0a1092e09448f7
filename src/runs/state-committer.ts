import type { MetadataStore } from '../store/store.js';

/**
 * Commits a run's new state once its records are safely loaded: every job of the run ended
 * in success (a warning counts as success). A failed run or load leaves the state untouched,
 * so the next run fetches the same window again.
 *
 * Known shortcoming: a second run-mode run that starts while the first one's jobs are still
 * loading reads the older state and fetches the same window again; merge destinations absorb
 * that, append destinations load those rows twice.
 */
export class StateCommitter {
  constructor(private readonly store: MetadataStore) {}

  async commitIfLoaded(runId: string): Promise<boolean> {
    const run = await this.store.runs.get(runId);
    if (!run || !run.updateState || run.stateCommitted || run.newState === undefined) return false;
    if (run.status === 'failure' || run.status === 'running') return false;

    if (run.publisherToken !== null) {
      const jobs = await this.store.jobs.forPublisher(run.publisherToken);
      if (jobs.length === 0 || jobs.some((job) => job.status !== 'succeeded')) return false;
    }
    await this.store.state.put(run.tap, run.newState);
    await this.store.runs.markStateCommitted(runId);
    return true;
  }
}
