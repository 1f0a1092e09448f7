import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { TaplineError } from '../errors/catalogue.js';
import { explainRun } from '../explain/explain.js';
import type { JobQueue } from '../jobs/queue.js';
import { runScript } from '../runner/spawn.js';
import type { ScriptRunResult } from '../runner/script-run.js';
import type { Masker } from '../secrets/masker.js';
import type { SecretService } from '../secrets/secret-service.js';
import type { MetadataStore, RunStatus, RunTrigger, Tap } from '../store/store.js';
import type { TapService } from '../taps/tap-service.js';
import { splitDocuments } from './document-jobs.js';
import type { RunAnswer, RunRequest } from './run-schema.js';
import type { StateCommitter } from './state-committer.js';

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

/** A failure found before the script could start (missing secret, vanished pipeline). */
function preflightFailure(error: string): ScriptRunResult {
  return {
    outcome: 'failure',
    failureKind: 'crashed',
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
}

interface SubmittedJobs {
  publisherToken: string;
  pipelineTokens: string[];
}

/** Runs and tests taps: the one path every face (HTTP, CLI, scheduler, MCP) goes through. */
export class RunService {
  private readonly shutdown = new AbortController();

  constructor(private readonly deps: RunServiceDeps) {}

  /** On shutdown: scripts still running after the grace period are stopped and recorded. */
  stopAfter(graceMs: number): void {
    setTimeout(() => this.shutdown.abort(), graceMs).unref();
  }

  async run(request: RunRequest & { trigger: RunTrigger }): Promise<RunAnswer> {
    const tap = await this.deps.taps.require(request.name);
    // Waiting for a slot comes first, so a refused request (503) leaves no run record behind.
    const release = await this.deps.slots.acquire();
    try {
      return await this.runInSlot(tap, request);
    } finally {
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
      masker: this.deps.secrets.masker(),
      startState: (await store.state.get(tap.name))?.state,
      ...(request.mode === 'run' && tap.targetPipeline !== null
        ? { stagingPath: path.join(config.dataDir, 'staging', `${runId}.ndjson`) }
        : {}),
    };
    const log = logger.child({ tap: tap.name, runId, mode: request.mode });

    let result: ScriptRunResult;
    let jobs: SubmittedJobs | null = null;
    try {
      result = await this.execute(run);
      if (run.stagingPath && statusOf(result) === 'success')
        jobs = await this.submitJobs(run, result);
      else if (run.stagingPath) await rm(run.stagingPath, { force: true });
    } catch (error) {
      // tapline's own failure, not the script's: the run record must still end.
      log.error({ err: error }, 'run failed inside tapline');
      result = preflightFailure('tapline could not complete the run; the server log has details');
    }

    const answer = await this.finish(run, result, jobs);
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
        return preflightFailure(
          `secret '${tap.secret}' named by tap '${tap.name}' does not exist; create it again or ` +
            'change the tap',
        );
      }
      secretEnv = values;
    }
    if (stagingPath && !(await store.pipelines.get(tap.targetPipeline!))) {
      return preflightFailure(
        `target pipeline '${tap.targetPipeline}' of tap '${tap.name}' no longer exists; ` +
          'create it again or change the tap',
      );
    }
    if (stagingPath) await mkdir(path.dirname(stagingPath), { recursive: true });

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
      python: runner.python,
      logBytes: runner.logBytes,
      maxRecordBytes: runner.maxRecordBytes,
      memoryBytes: runner.memoryBytes,
      cpuSeconds: runner.cpuSeconds,
      maxProcesses: runner.maxProcesses,
      maxWorkdirBytes: runner.maxWorkdirBytes,
      maxRunRecordBytes: runner.maxRunRecordBytes,
      maxOutputBytes: runner.maxOutputBytes,
      ...(stagingPath ? { stagingPath } : {}),
      signal: this.shutdown.signal,
    });
  }

  private async submitJobs(run: ActiveRun, result: ScriptRunResult): Promise<SubmittedJobs> {
    const stagingPath = run.stagingPath!;
    const publisherToken = randomUUID();
    const base = {
      publisherToken,
      runId: run.runId,
      tap: run.tap.name,
      pipeline: run.tap.targetPipeline!,
    };
    const jobs =
      run.tap.kind === 'document'
        ? (await splitDocuments(stagingPath)).map((document) => ({
            ...base,
            pipelineToken: document.pipelineToken,
            stagingPath: document.stagingPath,
            filename: document.filename,
            recordCount: 1,
          }))
        : [
            {
              ...base,
              pipelineToken: randomUUID(),
              stagingPath,
              filename: path.basename(stagingPath),
              recordCount: result.recordCount,
            },
          ];
    await this.deps.queue.submit(jobs);
    return { publisherToken, pipelineTokens: jobs.map((job) => job.pipelineToken) };
  }

  private async finish(
    run: ActiveRun,
    result: ScriptRunResult,
    jobs: SubmittedJobs | null,
  ): Promise<RunAnswer> {
    const { tap, request, masker } = run;
    const status = statusOf(result);
    const persistedReason = jobs ? null : persistedReasonOf(tap, request.mode, status);
    const logs = masker.mask(result.logs);
    const error = masker.mask(result.error);
    const explanation = await explainRun(
      {
        tap: {
          name: tap.name,
          description: tap.description,
          script: tap.script,
          secret: tap.secret,
        },
        mode: request.mode,
        params: request.params,
        outcome: result.outcome,
        failureKind: result.failureKind,
        recordCount: result.recordCount,
        logs,
        error,
        state: run.startState,
      },
      { ai: this.deps.config.ai, mask: (text) => masker.mask(text), logger: this.deps.logger },
    );

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
      newState: result.outcome === 'success' ? result.newState : undefined,
      finishedAt: new Date().toISOString(),
      durationMs: Math.round(result.durationMs),
    });
    // A successful run with nothing to load has nothing to wait for: its state commits now.
    if (run.updateState && status === 'no_records' && tap.targetPipeline !== null) {
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
