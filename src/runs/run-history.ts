import { TaplineError } from '../errors/catalogue.js';
import type { StatusService } from '../status/status-service.js';
import type { MetadataStore, Run } from '../store/store.js';
import type { TapService } from '../taps/tap-service.js';
import type { RunView } from './run-schema.js';

function toView(run: Run): RunView {
  const { id, newState: _newState, updateState: _updateState, ...rest } = run;
  return { runId: id, ...rest };
}

/** Past runs of taps, as stored, with the load rollup of runs that submitted jobs. */
export class RunHistory {
  constructor(
    private readonly store: MetadataStore,
    private readonly taps: TapService,
    private readonly status: StatusService,
  ) {}

  async listForTap(tap: string, page: { limit: number; offset: number }): Promise<RunView[]> {
    await this.taps.require(tap);
    const runs = await this.store.runs.listForTap(tap, page);
    const publisherTokens = runs.flatMap((run) => run.publisherToken ?? []);
    const rollups = await this.status.rollupsForPublishers(publisherTokens);
    return runs.map((run) => {
      const rollup = run.publisherToken === null ? undefined : rollups.get(run.publisherToken);
      return rollup ? { ...toView(run), rollup } : toView(run);
    });
  }

  async get(runId: string): Promise<RunView> {
    const run = await this.store.runs.get(runId);
    if (!run) throw new TaplineError('run_not_found', `run '${runId}' does not exist`);
    const view = toView(run);
    if (run.publisherToken === null) return view;
    return { ...view, rollup: await this.status.rollupForPublisher(run.publisherToken) };
  }
}
