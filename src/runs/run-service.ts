import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { TaplineError } from '../errors/catalogue.js';
import { type Explanation, explainRun } from '../explain/explain.js';
import { EarlyLoad } from '../jobs/early-load.js';
import type { JobQueue, NewJob } from '../jobs/queue.js';
import { StagingProgress } from '../jobs/staging-progress.js';
import { type Pipeline, pipelineSchema } from '../pipelines/pipeline-schema.js';
import { sandboxLimits } from '../runner/sandbox-defaults.js';
import { runScript } from '../runner/spawn.js';
import type { ScriptRunResult } from '../runner/script-run.js';
import type { Masker } from '../secrets/masker.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { MetadataStore, RunStatus, RunTrigger, Tap } from '../store/store.js';
import type { TapService } from '../taps/tap-service.js';
import { splitDocuments } from './document-jobs.js';
import type { RunAnswer, RunRequest } from './run-schema.js';
import type { StateCommitter } from './state-committer.js';
import { dataDirLayout } from '../config/data-dir-layout.js';

export interface RunServiceDeps {
  config: Config;
  store: MetadataStore;
  taps: TapService;
  secrets: SecretService;
  queue: JobQueue;
  state: StateCommitter;
  logger: Logger;
  /** Bounds how many scripts run at once; see runs/run-slots.ts. */
  slots: { acquire(): Promise<() => void> };
}

/** A run that failed without its script: refused before the start, or tapline's own fault. */
function failureWithoutScript(kind: 'not_started' | 'internal', error: string): ScriptRunResult {
  return {
    outcome: 'failure',
    failureKind: kind,
    records: [],
    recordCount: 0,
    recordsTruncated: false,
    dataType: null,
    columns: [],
    logs: '',
    error,
    newState: undefined,
    stagedBytes: 0,
    durationMs: 0,
  };
}

function statusOf(result: ScriptRunResult): RunStatus {
  if (result.outcome === 'failure') return 'failure';
  return result.recordCount === 0 ? 'no_records' : 'success';
}

/** Why records did not land, in the order the API promises: the first that applies. */
function persistedReasonOf(tap: Tap, mode: RunRequest['mode'], status: RunStatus) {
  if (mode === 'test') return 'test_mode';
  if (tap.targetPipeline === null) return 'no_target_pipeline';
  if (status === 'failure') return 'run_error';
  if (status === 'no_records') return 'no_records';
  return null;
}

/** One run while it is going: what every step of it needs to know. */
interface ActiveRun {
  tap: Tap;
  request: RunRequest & { trigger: RunTrigger };
  runId: string;
  /** Whether this run's new state may replace the tap's (see StateCommitter). */
  updateState: boolean;
  masker: Masker;
  /** The state the script starts from. */
  startState: unknown;
  /** Run mode with a target pipeline: where the script's records are staged. */
  stagingPath?: string;
  /** The target pipeline as the run found it at its start. */
  pipeline?: Pipeline;
  /** The tokens the run's jobs will carry, known from the start so a load can begin early. */
  publisherToken: string;
  pipelineToken: string;
  /** A structured run's load, begun while the script runs once enough is staged. */
  early?: { load: EarlyLoad; progress: StagingProgress };
}

interface SubmittedJobs {
  publisherToken: string;
  pipelineTokens: string[];
}

/** Runs and tests taps: the one path every face (HTTP, CLI, scheduler, MCP) goes through. */
export class RunService {
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: RunServiceDeps) {}

  /** Runs under way, whatever started them (a request, the scheduler, the CLI). */
  private readonly active = new Set<Promise<unknown>>();

  /** On shutdown: scripts still running after the grace period are stopped and recorded. */
  stopAfter(graceMs: number): void {
    setTimeout(() => this.shutdown.abort(), graceMs).unref();
  }

  /** Resolves once no run is under way: every run has answered and handed over its jobs. */
  async settled(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  async run(request: RunRequest & { trigger: RunTrigger }): Promise<RunAnswer> {
    const tap = await this.deps.taps.require(request.name);
    // Waiting for a slot comes first, so a refused request (503) leaves no run record behind.
    const release = await this.deps.slots.acquire();
    const running = this.runInSlot(tap, request);
    this.active.add(running);
    try {
      return await running;
    } finally {
      this.active.delete(running);
      release();
    }
  }

  private async runInSlot(tap: Tap, request: RunRequest & { trigger: RunTrigger }) {
    const { store, config, logger } = this.deps;
    const runId = randomUUID();
    const hasParams = Object.keys(request.params).length > 0;
    const updateState = request.mode === 'run' && (request.updateState ?? !hasParams);

    const started = await store.runs.start({
      id: runId,
      tap: tap.name,
      tapVersion: tap.version,
      mode: request.mode,
      trigger: request.trigger,
      params: request.params,
      targetPipeline: tap.targetPipeline,
      updateState,
      startedAt: new Date().toISOString(),
    });
    if (!started.started) {
      throw new TaplineError(
        'run_in_progress',
        `tap '${tap.name}' already has a run-mode run in progress (${started.runningRunId}); ` +
          'wait for it to finish',
        { runId: started.runningRunId },
      );
    }

    const run: ActiveRun = {
      tap,
      request,
      runId,
      updateState,
      masker: this.deps.secrets.maskerFor(tap.secret),
      startState: (await store.state.get(tap.name))?.state,
      ...(request.mode === 'run' && tap.targetPipeline !== null
        ? { stagingPath: path.join(config.dataDir, dataDirLayout.staging, `${runId}.ndjson`) }
        : {}),
      publisherToken: randomUUID(),
      pipelineToken: randomUUID(),
    };
    const log = logger.child({ tap: tap.name, runId, mode: request.mode });

    let result: ScriptRunResult;
    let explanation: Explanation | null = null;
    let jobs: SubmittedJobs | null = null;
    try {
      result = await this.execute(run);
      // Explained before the jobs go out, so the run record follows its jobs within moments.
      explanation = await this.explain(run, result);
      if (run.stagingPath && statusOf(result) === 'success') {
        run.early?.progress.end(result.stagedBytes);
        jobs = await this.submitJobs(run, result);
      }
    } catch (error) {
      // tapline's own failure, not the script's: the run record must still end.
      log.error({ err: error }, 'run failed inside tapline');
      result = failureWithoutScript(
        'internal',
        'tapline could not complete the run; the server log has details',
      );
      explanation = await this.explain(run, result);
    } finally {
      if (run.stagingPath && jobs === null) {
        await run.early?.load.cancel();
        await rm(run.stagingPath, { force: true });
      }
    }

    const answer = await this.finish(run, result, jobs, explanation);
    log.info(
      { status: statusOf(result), recordCount: answer.recordCount, durationMs: answer.durationMs },
      'run finished',
    );
    return answer;
  }

  private async execute(run: ActiveRun): Promise<ScriptRunResult> {
    const { tap, request, stagingPath } = run;
    const { store, config } = this.deps;
    let secretEnv: Record<string, string> = {};
    if (tap.secret !== null) {
      const values = await this.deps.secrets.values(tap.secret);
      if (!values) {
        return failureWithoutScript(
          'not_started',
          `secret '${tap.secret}' named by tap '${tap.name}' does not exist; create it again or ` +
            'change the tap',
        );
      }
      secretEnv = values;
    }
    if (stagingPath) {
      const stored = await store.pipelines.get(tap.targetPipeline!);
      if (!stored) {
        return failureWithoutScript(
          'not_started',
          `target pipeline '${tap.targetPipeline}' of tap '${tap.name}' no longer exists; ` +
            'create it again or change the tap',
        );
      }
      run.pipeline = pipelineSchema.parse(stored.definition);
      await mkdir(path.dirname(stagingPath), { recursive: true });
    }

    const { runner } = config;
    const defaultTimeout =
      request.mode === 'test' ? runner.testTimeoutSeconds : runner.runTimeoutSeconds;
    return runScript({
      script: tap.script,
      kind: tap.kind,
      mode: request.mode,
      params: request.params,
      state: run.startState,
      secretEnv,
      testLimit: request.testLimit,
      timeoutSeconds: tap.timeoutSeconds ?? defaultTimeout,
      timeoutSource: tap.timeoutSeconds === null ? 'mode' : 'tap',
      python: runner.python,
      logBytes: runner.logBytes,
      maxRecordBytes: runner.maxRecordBytes,
      memoryBytes: runner.memoryBytes,
      ...sandboxLimits(runner),
      ...(stagingPath ? { stagingPath, onStaged: (bytes) => this.staged(run, bytes) } : {}),
      signal: this.shutdown.signal,
    });
  }

  /** Once a structured run has staged enough, its job's load begins beside the script. */
  private staged(run: ActiveRun, bytes: number): void {
    if (run.early) {
      run.early.progress.advance(bytes);
      return;
    }
    const threshold = this.deps.config.jobs.earlyLoadAfterBytes;
    if (threshold === null || bytes < threshold || run.tap.kind !== 'structured') return;
    const progress = new StagingProgress();
    progress.advance(bytes);
    const load = new EarlyLoad({
      job: this.structuredJob(run, 0),
      pipeline: run.pipeline!,
      dataDir: this.deps.config.dataDir,
      progress,
    });
    run.early = { load, progress };
  }

  /** The one job of a structured run. */
  private structuredJob(run: ActiveRun, recordCount: number): NewJob {
    return {
      publisherToken: run.publisherToken,
      pipelineToken: run.pipelineToken,
      runId: run.runId,
      tap: run.tap.name,
      pipeline: run.tap.targetPipeline!,
      stagingPath: run.stagingPath!,
      filename: path.basename(run.stagingPath!),
      recordCount,
    };
  }

  private async submitJobs(run: ActiveRun, result: ScriptRunResult): Promise<SubmittedJobs> {
    const { queue } = this.deps;
    const { publisherToken } = run;
    let jobs: NewJob[];
    if (run.tap.kind === 'document') {
      const base = { publisherToken, runId: run.runId, tap: run.tap.name };
      jobs = (await splitDocuments(run.stagingPath!)).map((document) => ({
        ...base,
        pipeline: run.tap.targetPipeline!,
        pipelineToken: document.pipelineToken,
        stagingPath: document.stagingPath,
        filename: document.filename,
        recordCount: 1,
      }));
      await queue.submit(jobs);
    } else {
      const job = this.structuredJob(run, result.recordCount);
      jobs = [job];
      const early = run.early?.load;
      if (early && !early.gaveWay && (await this.pipelineUnchanged(run))) {
        const inHand = await queue.submitInHand(job, (emit, signal) => early.adopt(emit, signal));
        if (!inHand) await early.cancel();
      } else {
        // A load begun for a pipeline that has changed since is dropped: the job is loaded
        // from the queue with the pipeline as it is now, as a job of a smaller run would be.
        await early?.cancel();
        await queue.submit(jobs);
      }
    }
    return { publisherToken, pipelineTokens: jobs.map((job) => job.pipelineToken) };
  }

  /** Whether the target pipeline is still the one the run found at its start. */
  private async pipelineUnchanged(run: ActiveRun): Promise<boolean> {
    const stored = await this.deps.store.pipelines.get(run.tap.targetPipeline!);
    if (!stored) return false;
    return JSON.stringify(pipelineSchema.parse(stored.definition)) === JSON.stringify(run.pipeline);
  }

  private async explain(run: ActiveRun, result: ScriptRunResult): Promise<Explanation | null> {
    const { tap, request, masker } = run;
    return explainRun(
      {
        tap: {
          name: tap.name,
          description: tap.description,
          script: tap.script,
          secret: tap.secret,
          timeoutSeconds: tap.timeoutSeconds,
        },
        mode: request.mode,
        params: request.params,
        outcome: result.outcome,
        failureKind: result.failureKind,
        recordCount: result.recordCount,
        logs: masker.mask(result.logs),
        error: masker.mask(result.error),
        state: run.startState,
      },
      { ai: this.deps.config.ai, mask: (text) => masker.mask(text), logger: this.deps.logger },
    );
  }

  private async finish(
    run: ActiveRun,
    result: ScriptRunResult,
    jobs: SubmittedJobs | null,
    explanation: Explanation | null,
  ): Promise<RunAnswer> {
    const { tap, request, masker } = run;
    const status = statusOf(result);
    const persistedReason = jobs ? null : persistedReasonOf(tap, request.mode, status);
    const logs = masker.mask(result.logs);
    const error = masker.mask(result.error);

    await this.deps.store.runs.finish(run.runId, {
      status,
      recordCount: result.recordCount,
      recordsTruncated: result.recordsTruncated,
      dataType: result.dataType,
      columns: result.columns,
      logs,
      error,
      explanation: explanation?.text ?? null,
      explanationSource: explanation?.source ?? null,
      persisted: jobs !== null,
      persistedReason,
      publisherToken: jobs?.publisherToken ?? null,
      pipelineTokens: jobs?.pipelineTokens ?? [],
      // A script can put a secret in its state as easily as in a record.
      newState: result.outcome === 'success' ? masker.maskDeep(result.newState) : undefined,
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(result.durationMs),
    });
    // Its jobs may all have loaded before this record was saved, and a run with nothing to
    // load has nothing to wait for: either way the state may commit now (it commits once).
    // A run without a target pipeline never moves it: its records went nowhere.
    const loadable = jobs !== null || (status === 'no_records' && tap.targetPipeline !== null);
    if (run.updateState && loadable) {
      await this.deps.state.commitIfLoaded(run.runId);
    }

    return {
      tap: tap.name,
      description: tap.description,
      status: result.outcome,
      mode: request.mode,
      targetPipeline: tap.targetPipeline,
      persisted: jobs !== null,
      ...(persistedReason ? { persistedReason } : {}),
      ...(jobs ?? {}),
      ...(request.mode === 'test' ? { records: masker.maskDeep(result.records) } : {}),
      recordCount: result.recordCount,
      recordsTruncated: result.recordsTruncated,
      dataType: result.dataType,
      columns: result.columns,
      logs,
      ...(error !== null ? { error } : {}),
      ...(explanation ? { aiExplanation: explanation.text } : {}),
      runId: run.runId,
      durationMs: Math.round(result.durationMs),
    };
  }
}
