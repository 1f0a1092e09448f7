import type { MetadataStore } from '../store/store.js';

/**
 * Commits a run's new state once its records are safely loaded: every job of the run ended
 * in success (a warning counts as success). A failed run or load leaves the state untouched,
 * so the next run fetches the same window again.
 *
 * A state commits only while no later run of the tap has committed one, so an older run whose
 * load finished last never moves the bookmark back.
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
    // A run without a target pipeline never moves the state: its records went nowhere.
    if (run.targetPipeline === null) return false;
    if (run.status === 'success') {
      if (run.publisherToken === null) return false;
      const jobs = await this.store.jobs.forPublisher(run.publisherToken);
      if (jobs.length === 0 || jobs.some((job) => job.status !== 'succeeded')) return false;
    } else if (run.status !== 'no_records') {
      return false;
    }
    // A later run's state is newer: an older run whose load finished last must not undo it.
    if (await this.store.runs.laterStateCommitted(runId)) return false;

    await this.store.state.put(run.tap, run.newState);
    await this.store.runs.markStateCommitted(runId);
    return true;
  }

  /**
   * Commits what a stopped server left uncommitted: a run whose jobs all succeeded just before
   * the stop. Called at start; oldest first, so the newest state wins.
   */
  async commitPending(): Promise<number> {
    let committed = 0;
    for (const runId of await this.store.runs.pendingStateCommits()) {
      if (await this.commitIfLoaded(runId)) committed += 1;
    }
    return committed;
  }
}
