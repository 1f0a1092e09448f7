import { access } from 'node:fs/promises';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { createLoader } from '../destinations/create-loader.js';
import type { DestinationLoader, LoadContext } from '../destinations/destination.js';
import type { Pipeline } from '../pipelines/pipeline-schema.js';
import { transformedName } from '../pipelines/transform.js';
import { counted } from '../status/counted.js';
import type { EventCode, EventState, Job } from '../store/store.js';
import { JobStages, RejectTally } from './job-stages.js';
import type { StagingProgress } from './staging-progress.js';
import { readStagedBatches } from './staging-reader.js';

export interface JobEvent {
  processName: string;
  state: EventState;
  code: EventCode;
  description: string;
}

export interface LoadJobInput {
  job: Pick<Job, 'pipelineToken' | 'stagingPath' | 'filename'>;
  pipeline: Pipeline;
  dataDir: string;
  emit: (event: JobEvent) => Promise<void>;
  /** Ends the load as `aborted`: nothing loaded, no error event, the job can run again. */
  signal?: AbortSignal;
  /** The staged file is still being written by its run (an early load): follow it. */
  progress?: StagingProgress;
  /** Set for an early load: how its loaders take warehouse locks (see LoadContext.early). */
  early?: LoadContext['early'];
  /**
   * Awaited after every record has passed its checks and before any destination commits: an
   * early load waits here until its run has handed it the job, so nothing is visible before.
   */
  beforeCommit?: () => Promise<void>;
}

export interface LoadJobResult {
  status: 'succeeded' | 'failed';
  /**
   * Rows the job's destinations took: the fewest any of them wrote, since a destination can
   * refuse a record the stages passed (a merge key that is null). Records that passed quality,
   * transform and schema when every destination had the job already (an earlier attempt).
   */
  loadedCount: number;
  /** Warning events emitted. */
  warnings: number;
  error?: { processName: string; description: string };
  /** Stopped by `signal`: no error event was emitted and the job may simply run again. */
  aborted?: true;
}

/** A loader's processing line comes at most this often, besides the one before it finishes. */
const progressIntervalMs = 5_000;

interface LoaderRun {
  loader: DestinationLoader;
  written: number;
  rejects: RejectTally;
  lastProgressAt: number;
}

class JobFailed {
  constructor(readonly result: LoadJobResult) {}
}

/**
 * Loads one job: a single streaming pass over the staged file counts the records and feeds each
 * bounded batch through quality, transform and the schema stage into every loader that can roll
 * back (sqlite, file), which commit after the pass. Loaders that cannot take writes back (a
 * webhook) get a second pass once the whole job has passed its `fail` rules, so a job that fails
 * never sends them anything. Every outcome a user can cause is a value, never a throw.
 */
export async function loadJob(input: LoadJobInput): Promise<LoadJobResult> {
  const run = new JobLoad(input);
  try {
    return await run.load();
  } catch (error) {
    if (error instanceof JobFailed) return error.result;
    throw error;
  } finally {
    await run.abortOpenLoaders();
  }
}

class JobLoad {
  private warnings = 0;
  /** Rows each destination wrote, as its loader finished. */
  private readonly written: number[] = [];
  private readonly open: LoaderRun[] = [];
  private readonly context: LoadContext;

  constructor(private readonly input: LoadJobInput) {
    const { pipeline, job, dataDir, signal, early } = input;
    this.context = {
      pipeline,
      pipelineToken: job.pipelineToken,
      dataDir,
      primaryKey: (pipeline.primaryKey ?? []).map(
        (key) => transformedName(pipeline.transform, key) ?? key,
      ),
      ...(signal ? { signal } : {}),
      ...(early ? { early } : {}),
    };
  }

  async load(): Promise<LoadJobResult> {
    const { job, pipeline } = this.input;
    await this.say('StreamNotifier', 'begin', 'info', `reading staged records of ${job.filename}`);
    const readable = await access(job.stagingPath).then(
      () => true,
      () => false,
    );
    if (!readable) {
      await this.fail('StreamNotifier', `the staged records ${job.stagingPath} are missing`);
    }
    if (pipeline.quality.length > 0) {
      await this.say('DataQuality', 'begin', 'info', `checking ${pipeline.quality.length} rules`);
    }
    if (pipeline.transform) {
      await this.say('Transformation', 'begin', 'info', describeTransform(pipeline));
    }

    const loaders = pipeline.destinations.map((target) => createLoader(target, this.context));
    const deferred = loaders.filter((loader) => !loader.transactional);
    const streaming = loaders.filter((loader) => loader.transactional);
    await this.openLoaders(streaming.sort(byLockKey));

    const stages = new JobStages(pipeline);
    let records = 0;
    let bytes = 0;
    let passed = 0;
    await this.eachBatch('StreamNotifier', async (batch) => {
      records += batch.records.length + batch.refused.length;
      bytes += batch.bytes;
      const ready = stages.run(batch);
      if (ready === undefined) {
        await this.fail('DataQuality', stages.failure!);
      }
      passed += ready!.records.length;
      for (const loading of this.open) await this.write(loading, ready!);
    });

    await this.say(
      'StreamNotifier',
      'processing',
      'info',
      `${counted(records, 'record')}, ${counted(bytes, 'byte')}`,
    );
    await this.say('StreamNotifier', 'end', 'info', 'all staged records read');
    await this.reportChecks(stages, records, passed);
    if (pipeline.transform) {
      await this.say(
        'Transformation',
        'end',
        'info',
        `transformed ${counted(stages.transformed, 'record')}`,
      );
    }
    if (this.input.beforeCommit) {
      await this.input.beforeCommit();
      if (this.input.signal?.aborted) throw this.aborted();
    }
    await this.finishLoaders();

    if (deferred.length > 0) await this.sendDeferred(deferred);
    const loadedCount = this.written.length > 0 ? Math.min(...this.written) : passed;
    return { status: 'succeeded', loadedCount, warnings: this.warnings };
  }

  /** Releases whatever an early return left open (locks, transactions, temp files). */
  async abortOpenLoaders(): Promise<void> {
    for (const loading of this.open.splice(0)) await loading.loader.abort();
  }

  private async openLoaders(loaders: DestinationLoader[]): Promise<void> {
    for (const loader of loaders) {
      await this.say(loader.processName, 'begin', 'info', `loading into ${loader.target}`);
      const opened = await loader.open();
      if (!opened.ok) {
        await this.fail(loader.processName, opened.message);
      } else if (opened.alreadyLoaded) {
        await this.say(loader.processName, 'end', 'info', opened.description);
      } else {
        const rejects = new RejectTally();
        this.open.push({ loader, written: 0, rejects, lastProgressAt: Date.now() });
      }
    }
  }

  /** Reads the staged file batch by batch; a read error or an abort ends the job. */
  private async eachBatch(
    processName: string,
    handle: (batch: Parameters<JobStages['run']>[0]) => Promise<void>,
  ): Promise<void> {
    const { job, progress, signal } = this.input;
    const source = { ...(progress ? { progress } : {}), ...(signal ? { signal } : {}) };
    try {
      for await (const batch of readStagedBatches(job.stagingPath, source)) {
        if (signal?.aborted) throw this.aborted();
        await handle(batch);
        // A batch is under a millisecond of synchronous work; between two, the event loop
        // answers requests and drains the record pipes of scripts still running (an early
        // load's own script included: a pipe left full stalls the script).
        await setImmediatePromise();
      }
    } catch (error) {
      if (error instanceof JobFailed) throw error;
      if (signal?.aborted) throw this.aborted();
      await this.fail(processName, `cannot read the staged records: ${(error as Error).message}`);
    }
  }

  private async write(loading: LoaderRun, batch: Parameters<DestinationLoader['write']>[0]) {
    const { loader } = loading;
    const outcome = await loader.write(batch);
    if (!outcome.ok) {
      // The failing loader ends with its error alone; the others say they rolled back.
      this.open.splice(this.open.indexOf(loading), 1);
      await loader.abort();
      await this.fail(loader.processName, outcome.message);
      return;
    }
    loading.written += outcome.written;
    for (const reject of outcome.rejected) loading.rejects.add(reject.reason);
    if (Date.now() - loading.lastProgressAt >= progressIntervalMs) {
      loading.lastProgressAt = Date.now();
      await this.say(
        loader.processName,
        'processing',
        'info',
        `${counted(loading.written, 'row')} so far`,
      );
    }
  }

  private async finishLoaders(): Promise<void> {
    while (this.open.length > 0) {
      const loading = this.open[0]!;
      const { loader, rejects } = loading;
      if (rejects.count > 0) {
        const description = `rejected ${counted(rejects.count, 'record')}: ${rejects.summary()}`;
        await this.say(loader.processName, 'processing', 'warning', description);
      }
      await this.say(
        loader.processName,
        'processing',
        'info',
        `${counted(loading.written, 'row')} written`,
      );
      const finished = await loader.finish();
      this.open.shift();
      this.written.push(loading.written);
      if (!finished.ok) {
        await this.fail(loader.processName, finished.message);
      } else {
        await this.say(loader.processName, 'end', 'info', finished.description);
      }
    }
  }

  /** The second pass, for loaders that only see a job once it has passed all its checks. */
  private async sendDeferred(loaders: DestinationLoader[]): Promise<void> {
    await this.openLoaders(loaders);
    if (this.open.length === 0) return;
    const stages = new JobStages(this.input.pipeline);
    await this.eachBatch(this.open[0]!.loader.processName, async (batch) => {
      const ready = stages.run(batch)!;
      for (const loading of this.open) await this.write(loading, ready);
    });
    await this.finishLoaders();
  }

  private async reportChecks(stages: JobStages, records: number, passed: number): Promise<void> {
    const { quality, rejects } = stages;
    if (!quality.active && rejects.count === 0) return;
    if (!quality.active) {
      await this.say('DataQuality', 'begin', 'info', 'checking records against the schema');
    }
    if (rejects.count > 0) {
      const description = `rejected ${rejects.count} of ${counted(records, 'record')}: ${rejects.summary()}`;
      await this.say('DataQuality', 'processing', 'warning', description);
    }
    if (quality.warned > 0) {
      const examples = quality.warnReasons.join('; ');
      const description = `${counted(quality.warned, 'warn-rule failure')} (records kept): ${examples}`;
      await this.say('DataQuality', 'processing', 'warning', description);
    }
    await this.say(
      'DataQuality',
      'end',
      'info',
      `checked ${counted(records, 'record')}: ${passed} passed, ${rejects.count} rejected`,
    );
  }

  /** Undoes every loader still open; each says so, so no loader is left without an end. */
  private async rollBack(): Promise<void> {
    for (const { loader } of this.open.splice(0)) {
      await loader.abort();
      await this.say(loader.processName, 'end', 'info', 'rolled back: nothing loaded by this job');
    }
  }

  /**
   * Ends the job: the stage's error event, then every open loader rolled back. A load that was
   * told to stop ends as aborted instead: what failed may be the stop itself (a lock given up).
   */
  private async fail(processName: string, description: string): Promise<never> {
    if (this.input.signal?.aborted) throw this.aborted();
    await this.say(processName, 'end', 'error', description);
    await this.rollBack();
    throw new JobFailed({
      status: 'failed',
      loadedCount: 0,
      warnings: this.warnings,
      error: { processName, description },
    });
  }

  private aborted(): JobFailed {
    const reason = this.input.signal?.reason;
    const description = typeof reason === 'string' ? reason : 'stopped before it finished';
    return new JobFailed({
      status: 'failed',
      loadedCount: 0,
      warnings: this.warnings,
      error: { processName: 'JobRunner', description },
      aborted: true,
    });
  }

  private async say(processName: string, state: EventState, code: EventCode, description: string) {
    if (code === 'warning') this.warnings += 1;
    await this.input.emit({ processName, state, code, description });
  }
}

/** Loaders holding a lock open first, in one global order; the others keep their place. */
function byLockKey(a: DestinationLoader, b: DestinationLoader): number {
  if (a.lockKey === undefined || b.lockKey === undefined) {
    return (a.lockKey === undefined ? 1 : 0) - (b.lockKey === undefined ? 1 : 0);
  }
  return a.lockKey < b.lockKey ? -1 : a.lockKey > b.lockKey ? 1 : 0;
}

function describeTransform(pipeline: Pipeline): string {
  const transform = pipeline.transform!;
  const parts = [
    Object.keys(transform.rename).length > 0
      ? `rename ${Object.keys(transform.rename).length}`
      : '',
    transform.drop.length > 0 ? `drop ${transform.drop.length}` : '',
    transform.trimStrings ? 'trim strings' : '',
    transform.emptyStringsAsNull ? 'empty strings as null' : '',
  ].filter(Boolean);
  return `applying ${parts.join(', ') || 'no changes'}`;
}
