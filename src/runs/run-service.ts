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
import type { MetadataStore, PersistedReason, RunStatus, RunTrigger, Tap } from '../store/store.js';
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

    const log = logger.child({ tap: tap.name, runId, mode: request.mode });
    const masker = this.deps.secrets.masker();
    const stagingPath =
      request.mode === 'run' && tap.targetPipeline !== null
        ? path.join(config.dataDir, 'staging', `${runId}.ndjson`)
        : undefined;

    let result: ScriptRunResult;
    let jobs: { publisherToken: string; pipelineTokens: string[] } | null = null;
    try {
      result = await this.execute(tap, request, stagingPath);
      const status = statusOf(result);
      if (stagingPath && status === 'success')
        jobs = await this.submitJobs(tap, runId, stagingPath, result);
      else if (stagingPath) await rm(stagingPath, { force: true });
    } catch (error) {
      // tapline's own failure, not the script's: the run record must still end.
      log.error({ err: error }, 'run failed inside tapline');
      result = preflightFailure('tapline could not complete the run; the server log has details');
    }

    const answer = await this.finish(tap, request, runId, result, jobs, masker, updateState);
    log.info(
      { status: answer.status, recordCount: answer.recordCount, durationMs: answer.durationMs },
      'run finished',
    );
    return answer;
  }

  private async execute(tap: Tap, request: RunRequest, stagingPath: string | undefined) {
    const { store, config } = this.deps;
    let secretEnv: Record<string, string> = {};
    if (tap.secret !== null) {
      const values = await this.deps.secrets.values(tap.secret);
      if (!values) {
        return preflightFailure(
          `secret '${tap.secret}' named by tap '${tap.name}' does not exist; create it with ` +
            `POST /api/v1/secrets or 'tapline secret set ${tap.secret} FIELD=value'`,
        );
      }
      secretEnv = values;
    }
    if (request.mode === 'run' && tap.targetPipeline !== null) {
      if (!(await store.pipelines.get(tap.targetPipeline))) {
        return preflightFailure(
          `target pipeline '${tap.targetPipeline}' of tap '${tap.name}' no longer exists; ` +
            'create it again or change the tap',
        );
      }
    }
    if (stagingPath) await mkdir(path.dirname(stagingPath), { recursive: true });

    const state = await store.state.get(tap.name);
    const defaultTimeout =
      request.mode === 'test' ? config.runner.testTimeoutSeconds : config.runner.runTimeoutSeconds;
    return runScript({
      script: tap.script,
      kind: tap.kind,
      mode: request.mode,
      params: request.params,
      state: state?.state,
      secretEnv,
      testLimit: request.testLimit,
      timeoutSeconds: tap.timeoutSeconds ?? defaultTimeout,
      python: config.runner.python,
      logBytes: config.runner.logBytes,
      maxRecordBytes: config.runner.maxRecordBytes,
      memoryBytes: config.runner.memoryBytes,
      cpuSeconds: config.runner.cpuSeconds,
      maxProcesses: config.runner.maxProcesses,
      maxWorkdirBytes: config.runner.maxWorkdirBytes,
      maxRunRecordBytes: config.runner.maxRunRecordBytes,
      maxOutputBytes: config.runner.maxOutputBytes,
      ...(stagingPath ? { stagingPath } : {}),
      signal: this.shutdown.signal,
    });
  }

  private async submitJobs(tap: Tap, runId: string, stagingPath: string, result: ScriptRunResult) {
    const publisherToken = randomUUID();
    const pipeline = tap.targetPipeline!;
    const base = { publisherToken, runId, tap: tap.name, pipeline };
    const jobs =
      tap.kind === 'document'
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
    tap: Tap,
    request: RunRequest,
    runId: string,
    result: ScriptRunResult,
    jobs: { publisherToken: string; pipelineTokens: string[] } | null,
    masker: Masker,
    updateState: boolean,
  ): Promise<RunAnswer> {
    const status = statusOf(result);
    const persistedReason: PersistedReason | null = jobs
      ? null
      : persistedReasonOf(tap, request.mode, status);
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
      },
      { ai: this.deps.config.ai, mask: (text) => masker.mask(text), logger: this.deps.logger },
    );

    await this.deps.store.runs.finish(runId, {
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
    if (updateState && status === 'no_records' && tap.targetPipeline !== null) {
      await this.deps.state.commitIfLoaded(runId);
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
      runId,
      durationMs: Math.round(result.durationMs),
    };
  }
}
