import type { MetadataStore, NewStatusEvent, StatusEvent } from '../store/store.js';
import { type Rollup, rollupJobs } from './rollup.js';

export interface StatusQuery {
  publishertoken?: string | undefined;
  pipelinetoken?: string | undefined;
  pipelinename?: string | undefined;
  page: number;
  withrollup: boolean;
}

export const jobsPerPage = 20;

/** Pipeline tokens per events query: well under SQLite's 32,766 bound parameters. */
const tokensPerQuery = 500;

/** Status events of loads, and the rollup a caller polls until `allDone`. */
export class StatusService {
  constructor(
    private readonly store: MetadataStore,
    private readonly jobTimeoutMs: number,
  ) {}

  async emit(event: Omit<NewStatusEvent, 'epoch'>): Promise<StatusEvent> {
    return this.store.events.append({ ...event, epoch: Date.now() });
  }

  async rollupForPublisher(publisherToken: string): Promise<Rollup> {
    const [jobs, events] = await Promise.all([
      this.store.jobs.forPublisher(publisherToken),
      this.store.events.forPublisher(publisherToken),
    ]);
    return rollupJobs(jobs, events, Date.now(), this.jobTimeoutMs);
  }

  /**
   * The rollups of several runs (a page of run history), keyed by publisherToken: one indexed
   * query for each run's jobs, then their events in as few queries as the tokens allow.
   */
  async rollupsForPublishers(publisherTokens: readonly string[]): Promise<Map<string, Rollup>> {
    const jobs = await Promise.all(
      publisherTokens.map((token) => this.store.jobs.forPublisher(token)),
    );
    const pipelineTokens = jobs.flat().map((job) => job.pipelineToken);
    const eventsByPublisher = new Map<string, StatusEvent[]>();
    for (let from = 0; from < pipelineTokens.length; from += tokensPerQuery) {
      const chunk = pipelineTokens.slice(from, from + tokensPerQuery);
      for (const event of await this.store.events.forPipelineTokens(chunk)) {
        const list = eventsByPublisher.get(event.publisherToken) ?? [];
        list.push(event);
        eventsByPublisher.set(event.publisherToken, list);
      }
    }
    const now = Date.now();
    return new Map(
      publisherTokens.map((token, index) => [
        token,
        rollupJobs(jobs[index]!, eventsByPublisher.get(token) ?? [], now, this.jobTimeoutMs),
      ]),
    );
  }

  /** A token nobody knows gives no events (and a rollup with no jobs), never an error. */
  async query(
    query: StatusQuery,
  ): Promise<StatusEvent[] | { rollup: Rollup; events: StatusEvent[] }> {
    const jobs = await this.jobsFor(query);
    const events =
      query.publishertoken !== undefined
        ? await this.store.events.forPublisher(query.publishertoken)
        : await this.store.events.forPipelineTokens(jobs.map((job) => job.pipelineToken));
    if (!query.withrollup) return events;
    return { rollup: rollupJobs(jobs, events, Date.now(), this.jobTimeoutMs), events };
  }

  private async jobsFor(query: StatusQuery) {
    if (query.publishertoken !== undefined)
      return this.store.jobs.forPublisher(query.publishertoken);
    if (query.pipelinetoken !== undefined) {
      const job = await this.store.jobs.get(query.pipelinetoken);
      return job ? [job] : [];
    }
    if (query.pipelinename !== undefined) {
      const offset = (query.page - 1) * jobsPerPage;
      return this.store.jobs.forPipeline(query.pipelinename, { limit: jobsPerPage, offset });
    }
    return [];
  }
}
