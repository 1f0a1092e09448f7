import { rm } from 'node:fs/promises';
import type { Logger } from 'pino';
import { explainJobError } from '../explain/explain.js';
import type { Config } from '../config/config.js';
import { runCheckpoints } from '../destinations/warehouse-checkpoint.js';
import { counted } from '../status/counted.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import type { StateCommitter } from '../runs/state-committer.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { StatusService } from '../status/status-service.js';
import type { Job, MetadataStore } from '../store/store.js';
import { type JobEvent, loadJob, type LoadJobResult } from './load-job.js';
import type { JobQueue, LoadInHand, NewJob } from './queue.js';

const idlePollMs = 1000;

type Emit = (event: JobEvent) => Promise<void>;

/** A failure of tapline's own, as the job's error event and result. */
async function failJob(emit: Emit, description: string): Promise<LoadJobResult> {
  await emit({ processName: 'JobRunner', state: 'processing', code: 'error', description });
  return {
    status: 'failed',
    loadedCount: 0,
    warnings: 0,
    error: { processName: 'JobRunner', description },
  };
}

/**
 * The embedded queue: jobs are rows of the metadata store, worked by a pool of async loops in
 * this process. A job left `running` by a process that died is queued again at start; the
 * destinations' load markers make the second attempt load nothing twice.
 */
export class EmbeddedQueue implements JobQueue {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private wakers: (() => void)[] = [];
  private readonly abort = new AbortController();

  constructor(
    private readonly deps: {
      config: Config;
      store: MetadataStore;
      status: StatusService;
      state: StateCommitter;
      secrets: SecretService;
      logger: Logger;
    },
  ) {}

  async submit(jobs: NewJob[]): Promise<void> {
    const createdAt = new Date().toISOString();
    for (const job of jobs) await this.deps.store.jobs.insert({ ...job, createdAt });
    this.wake();
  }

  async submitInHand(job: NewJob, load: LoadInHand): Promise<boolean> {
    // A stopping queue still takes a load already under way, until its grace period is over.
    if (this.abort.signal.aborted) {
      await this.submit([job]);
      return false;
    }
    const claimed = await this.deps.store.jobs.insertRunning({
      ...job,
      createdAt: new Date().toISOString(),
    });
    this.track(this.work(claimed, load));
    return true;
  }

  async start(): Promise<void> {
    const requeued = await this.deps.store.jobs.requeueRunning();
    if (requeued > 0)
      this.deps.logger.warn({ jobs: requeued }, 'requeued jobs left running by a stopped process');
    for (let i = 0; i < this.deps.config.jobs.workers; i++) this.loops.push(this.loop());
  }

  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake();
    const timer = setTimeout(
      () => this.abort.abort('stopped: the server is shutting down'),
      graceMs,
    );
    await Promise.all(this.loops);
    // Loads handed over while stopping (submitInHand) join the ones already in flight.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    clearTimeout(timer);
    await runCheckpoints();
  }

  async idle(): Promise<void> {
    for (;;) {
      const queued = await this.deps.store.jobs.claimable();
      if (!queued && this.inFlight.size === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      const job = await this.deps.store.jobs.claim();
      if (!job) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, idlePollMs);
          this.wakers.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
        continue;
      }
      await this.track(this.work(job));
    }
  }

  /** Counts a job's work as in flight until it ends; its failure is logged, never thrown. */
  private track(work: Promise<void>): Promise<void> {
    const tracked = work.catch((error: unknown) => {
      this.deps.logger.error({ err: error }, 'job work failed inside tapline');
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    return tracked;
  }

  private async work(job: Job, inHand?: LoadInHand): Promise<void> {
    const { store, status, logger } = this.deps;
    const log = logger.child({
      pipelineToken: job.pipelineToken,
      pipeline: job.pipeline,
      tap: job.tap,
    });
    const emit = async (event: JobEvent) => {
      await status.emit({
        ...event,
        pipeline: job.pipeline,
        publisherToken: job.publisherToken,
        pipelineToken: job.pipelineToken,
        filename: job.filename,
      });
    };

    await emit({
      processName: 'JobRunner',
      state: 'begin',
      code: 'info',
      description: `job started (attempt ${job.attempts})`,
    });
    const outcome = inHand
      ? await this.loadInHand(inHand, emit, log)
      : await this.load(job, emit, log);
    if (outcome.aborted) {
      // Stopped by shutdown, or an early load that gave way: queued again rather than failed.
      await store.jobs.requeue(job.pipelineToken);
      this.wake();
      return;
    }

    const explanation = outcome.error ? await this.explain(job, outcome.error) : null;
    await store.jobs.finish(job.pipelineToken, {
      status: outcome.status,
      recordCount: outcome.status === 'succeeded' ? outcome.loadedCount : job.recordCount,
      explanation,
    });
    if (outcome.status === 'succeeded') {
      await rm(job.stagingPath, { force: true });
      await this.deps.state.commitIfLoaded(job.runId);
    }
    // The end event comes last, so a caller who sees allDone also sees the committed state.
    await emit({
      processName: 'JobRunner',
      state: 'end',
      code: outcome.status === 'succeeded' ? 'info' : 'error',
      description:
        outcome.status === 'succeeded'
          ? `job finished: ${counted(outcome.loadedCount, 'record')} loaded`
          : `job failed in ${outcome.error?.processName ?? 'JobRunner'}`,
    });
    log.info({ status: outcome.status, loaded: outcome.loadedCount }, 'job finished');
    void runCheckpoints();
  }

  /** Loads a job; whatever goes wrong becomes a failed result with an error event. */
  private async load(job: Job, emit: Emit, log: Logger): Promise<LoadJobResult> {
    try {
      const stored = await this.deps.store.pipelines.get(job.pipeline);
      if (!stored) return await failJob(emit, `pipeline '${job.pipeline}' no longer exists`);
      const pipeline = pipelineSchema.parse(stored.definition);
      const { dataDir } = this.deps.config;
      return await loadJob({ job, pipeline, dataDir, emit, signal: this.abort.signal });
    } catch (error) {
      log.error({ err: error }, 'job failed inside tapline');
      return failJob(emit, 'tapline failed while loading this job; the server log has details');
    }
  }

  private async loadInHand(load: LoadInHand, emit: Emit, log: Logger): Promise<LoadJobResult> {
    try {
      return await load(emit, this.abort.signal);
    } catch (error) {
      log.error({ err: error }, 'job failed inside tapline');
      return failJob(emit, 'tapline failed while loading this job; the server log has details');
    }
  }

  private async explain(job: Job, error: { processName: string; description: string }) {
    // Masked as its run was: with the values of the tap's own secret and the API keys.
    const tap = await this.deps.store.taps.get(job.tap);
    const masker = this.deps.secrets.maskerFor(tap?.secret ?? null);
    const explanation = await explainJobError(
      { pipeline: job.pipeline, processName: error.processName, description: error.description },
      {
        ai: this.deps.config.ai,
        mask: (text: string) => masker.mask(text),
        logger: this.deps.logger,
      },
    );
    return explanation?.text ?? null;
  }
}
