import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import type { Logger } from 'pino';
import type { LogMask } from '../log/logger.js';
import { KeyService } from '../auth/key-service.js';
import { lockDataDir } from './data-dir-lock.js';
import { StartupError } from './startup-error.js';
import type { Config } from '../config/config.js';
import { removeOrphanStaging } from '../jobs/staging-sweep.js';
import { EmbeddedQueue } from '../jobs/embedded-queue.js';
import type { JobQueue } from '../jobs/queue.js';
import { PipelineService } from '../pipelines/pipeline-service.js';
import { removeOrphanWorkdirs } from '../runner/workdir-sweep.js';
import { RunHistory } from '../runs/run-history.js';
import { RunService } from '../runs/run-service.js';
import { RunSlots } from '../runs/run-slots.js';
import { StateCommitter } from '../runs/state-committer.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { SecretBox, SecretKeyError } from '../secrets/secret-box.js';
import { SecretService } from '../secrets/secret-service.js';
import { StatusService } from '../status/status-service.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { MetadataStore } from '../store/store.js';
import { TapService } from '../taps/tap-service.js';

export interface AppContext {
  version: string;
  config: Config;
  logger: Logger;
  store: MetadataStore;
  taps: TapService;
  runs: RunService;
  history: RunHistory;
  pipelines: PipelineService;
  status: StatusService;
  secrets: SecretService;
  keys: KeyService;
  scheduler: Scheduler;
  queue: JobQueue;
  slots: RunSlots;
  close(graceMs?: number): Promise<void>;
}

const packageJson = createRequire(import.meta.url)('../../package.json') as { version: string };

/**
 * Wires the services together: the one place that knows which store and queue implementations
 * are in use. The HTTP server, the CLI's embedded commands and tests all start here.
 */
export async function createContext(
  config: Config,
  logger: Logger,
  logMask?: LogMask,
): Promise<AppContext> {
  if (config.databaseUrl) {
    // Server mode (Postgres metadata store and queue) is designed (DESIGN section 8) but not
    // built yet; refusing is better than silently running embedded against the wrong data.
    throw new StartupError(
      'TAPLINE_DATABASE_URL is set, but server mode on Postgres is not available yet; unset it ' +
        'to run embedded on SQLite',
    );
  }
  const unlock = lockDataDir(config.dataDir);
  const store = openSqliteStore(config.dataDir);
  const abandoned = await store.runs.abandonRunning(
    'the server stopped while this run was going',
    'The server stopped after this run had handed its records to the pipeline, before the ' +
      "run's own record was complete: its records load as usual, but its logs and its new " +
      'state were not kept, so the next run fetches the same window again.',
  );
  if (abandoned > 0)
    logger.warn({ runs: abandoned }, 'marked runs left running by a stopped server as failed');
  const orphans = await removeOrphanStaging(config.dataDir, store);
  if (orphans > 0) logger.warn({ files: orphans }, 'removed staging files no job needs');
  const workdirs = await removeOrphanWorkdirs(tmpdir());
  if (workdirs.removed > 0) {
    logger.info(
      { directories: workdirs.removed },
      'removed working directories a stopped server left',
    );
  }
  for (const { directory, error } of workdirs.failed) {
    logger.warn({ directory, error }, 'cannot remove a working directory a stopped server left');
  }

  const apiKeys = config.apiKey ? [config.apiKey] : [];
  let secrets: SecretService;
  try {
    const box = SecretBox.open(config.dataDir, process.env.TAPLINE_SECRET_KEY);
    secrets = new SecretService(store, box, apiKeys);
    // Opens every stored secret, so a wrong key stops the start instead of a later run.
    await secrets.loadMaskers();
  } catch (error) {
    if (!(error instanceof SecretKeyError)) throw error;
    await store.close();
    unlock();
    throw new StartupError(error.message);
  }
  logMask?.set((line) => secrets.masker().mask(line));
  const taps = new TapService(store);
  const status = new StatusService(store, config.jobs.timeoutSeconds * 1000);
  const state = new StateCommitter(store);
  const committed = await state.commitPending();
  if (committed > 0) logger.warn({ runs: committed }, 'committed states a stopped server left');
  const queue = new EmbeddedQueue({ config, store, status, state, secrets, logger });
  const slots = new RunSlots(config.runner.maxConcurrentRuns, config.runner.maxQueuedRuns);
  const runs = new RunService({ config, store, taps, secrets, queue, state, logger, slots });
  const pipelines = new PipelineService(store);
  const history = new RunHistory(store, taps, status);
  const keys = new KeyService(store, config.apiKey);
  const scheduler = new Scheduler(store, runs, logger);
  taps.onChange(() => scheduler.sync());
  await queue.start();
  await scheduler.start();

  return {
    version: packageJson.version,
    config,
    logger,
    store,
    taps,
    runs,
    history,
    pipelines,
    status,
    secrets,
    keys,
    scheduler,
    queue,
    slots,
    async close(graceMs = 10_000) {
      // Runs first, since a run that ends within the grace period hands its job to the queue;
      // then the queue with the grace left, so that job is loaded now, not at the next start.
      const deadline = Date.now() + graceMs;
      scheduler.stop();
      runs.stopAfter(graceMs);
      await runs.settled();
      await queue.stop(Math.max(0, deadline - Date.now()));
      await store.close();
      unlock();
    },
  };
}
