import type { Job, StatusEvent } from '../store/store.js';

export type JobRollupStatus = 'processing' | 'success' | 'warning' | 'error' | 'timed_out';

export interface JobRollup {
  pipelineToken: string;
  pipeline: string;
  status: JobRollupStatus;
  startedAt: string;
  lastEventAt: string | null;
  elapsedMs: number;
  recordCount: number;
  lastError: { processName: string; description: string; explanation: string | null } | null;
}

export interface Rollup {
  status: 'processing' | 'success' | 'warning' | 'error';
  allDone: boolean;
  jobCount: number;
  jobs: JobRollup[];
}

/** The event that closes a job (DESIGN section 5). */
function isJobEnd(event: StatusEvent): boolean {
  return event.processName === 'JobRunner' && event.state === 'end';
}

/** One job's status from its events, by the precedence DESIGN section 5 sets. */
export function rollupJob(
  job: Job,
  events: StatusEvent[],
  now: number,
  timeoutMs: number,
): JobRollup {
  const errors = events.filter((event) => event.code === 'error');
  const ended = events.some(isJobEnd);
  const startedEpoch = events[0]?.epoch ?? Date.parse(job.createdAt);
  const last = events.at(-1);
  const endEpoch = ended && last ? last.epoch : now;

  let status: JobRollupStatus;
  if (errors.length > 0) status = 'error';
  else if (ended && events.some((event) => event.code === 'warning')) status = 'warning';
  else if (ended) status = 'success';
  else if (now - startedEpoch > timeoutMs) status = 'timed_out';
  else status = 'processing';

  // The first error is the cause; JobRunner's closing error only repeats where it happened.
  // A job that timed out has no error event: its lastError names the limit it passed.
  const errorEvent = errors.find((event) => event.processName !== 'JobRunner') ?? errors[0];
  const lastError =
    errorEvent ??
    (status === 'timed_out'
      ? {
          processName: 'JobRunner',
          description: `no end within ${timeoutMs / 1000} s (jobs.timeoutSeconds)`,
        }
      : undefined);
  return {
    pipelineToken: job.pipelineToken,
    pipeline: job.pipeline,
    status,
    startedAt: new Date(startedEpoch).toISOString(),
    lastEventAt: last?.dateTime ?? null,
    elapsedMs: Math.max(0, endEpoch - startedEpoch),
    recordCount: job.recordCount,
    lastError: lastError
      ? {
          processName: lastError.processName,
          description: lastError.description,
          explanation: job.explanation,
        }
      : null,
  };
}

const terminal = new Set<JobRollupStatus>(['success', 'warning', 'error', 'timed_out']);

export function rollupJobs(
  jobs: Job[],
  events: StatusEvent[],
  now: number,
  timeoutMs: number,
): Rollup {
  const byJob = new Map<string, StatusEvent[]>();
  for (const event of events) {
    const list = byJob.get(event.pipelineToken) ?? [];
    list.push(event);
    byJob.set(event.pipelineToken, list);
  }
  const rolled = jobs.map((job) =>
    rollupJob(job, byJob.get(job.pipelineToken) ?? [], now, timeoutMs),
  );
  const statuses = rolled.map((job) => job.status);

  // The precedence is DESIGN section 5's: a warning shows even while other jobs still run.
  let status: Rollup['status'];
  if (statuses.some((s) => s === 'error' || s === 'timed_out')) status = 'error';
  else if (statuses.some((s) => s === 'warning')) status = 'warning';
  else if (rolled.length > 0 && statuses.every((s) => s === 'success')) status = 'success';
  else status = 'processing';

  return {
    status,
    allDone: rolled.length > 0 && statuses.every((s) => terminal.has(s)),
    jobCount: rolled.length,
    jobs: rolled,
  };
}
