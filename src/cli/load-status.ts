import { counted } from '../status/counted.js';
import type { ApiClient } from './api-client.js';
import { cliError } from './cli-errors.js';
import type { Output } from './output.js';

export interface StatusEvent {
  pipeline: string;
  processName: string;
  pipelineToken: string;
  state: 'begin' | 'processing' | 'end';
  code: 'info' | 'warning' | 'error';
  description: string;
  dateTime: string;
}

export interface JobRollup {
  pipelineToken: string;
  pipeline: string;
  status: 'processing' | 'success' | 'warning' | 'error' | 'timed_out';
  startedAt: string;
  lastEventAt: string | null;
  elapsedMs: number;
  recordCount: number;
  lastError: { processName: string; description: string; explanation?: string | null } | null;
}

export interface LoadStatus {
  rollup: {
    status: 'processing' | 'success' | 'warning' | 'error';
    allDone: boolean;
    jobCount: number;
    jobs: JobRollup[];
  };
  events: StatusEvent[];
}

export type TokenKind = 'publishertoken' | 'pipelinetoken';

export function fetchStatus(client: ApiClient, kind: TokenKind, token: string) {
  return client.get<LoadStatus>('/pipeline/status', { [kind]: token, withrollup: 'true' });
}

/** A token is either kind; the publisher's is tried first because a run's answer leads with it. */
export async function findStatus(
  client: ApiClient,
  token: string,
): Promise<{ kind: TokenKind; status: LoadStatus }> {
  for (const kind of ['publishertoken', 'pipelinetoken'] as const) {
    const status = await fetchStatus(client, kind, token);
    if (status.rollup.jobCount > 0) return { kind, status };
  }
  throw cliError('unknown_token', token);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The stage a job is in: its newest event, e.g. "SqliteLoader processing: 1000 rows". */
function stageOf(job: JobRollup, events: StatusEvent[]): string {
  const last = events.filter((event) => event.pipelineToken === job.pipelineToken).at(-1);
  return last ? `${last.processName} ${last.state}: ${last.description}` : 'queued';
}

/** One job as a line; with `width`, the stage text is cut so the line never wraps. */
export function jobLine(
  out: Output,
  job: JobRollup,
  events: StatusEvent[],
  width = Infinity,
): string {
  let stage = job.lastError
    ? `${job.lastError.processName}: ${job.lastError.description}`
    : stageOf(job, events);
  // The token whole: it is what `tapline status` takes.
  const fields = [
    job.pipeline,
    job.pipelineToken,
    job.status,
    counted(job.recordCount, 'record'),
    seconds(job.elapsedMs),
  ];
  const used = 2 + fields.join('  ').length + 2;
  if (used + stage.length > width) stage = `${stage.slice(0, Math.max(0, width - used - 1))}…`;
  fields[2] = out.status(job.status);
  return `  ${[...fields, out.style.dim(stage)].join('  ')}`;
}

/** Redraws the job lines in place on a terminal; elsewhere prints a line when one changes. */
class ProgressDisplay {
  private drawn = 0;
  private readonly printed = new Map<string, string>();
  private readonly live = process.stderr.isTTY === true;

  constructor(private readonly out: Output) {}

  show(status: LoadStatus): void {
    if (this.out.json) return;
    const width = this.live ? (process.stderr.columns || 120) - 1 : Infinity;
    const lines = status.rollup.jobs.map((job) => jobLine(this.out, job, status.events, width));
    if (this.live) {
      const up = this.drawn > 0 ? `\u001b[${this.drawn}A` : '';
      process.stderr.write(`${up}${lines.map((line) => `\u001b[2K${line}`).join('\n')}\n`);
      this.drawn = lines.length;
      return;
    }
    status.rollup.jobs.forEach((job, i) => {
      // Elapsed time changes every poll; only a change of status or stage is news.
      const key = `${job.status} ${stageOf(job, status.events)}`;
      if (this.printed.get(job.pipelineToken) !== key) {
        this.printed.set(job.pipelineToken, key);
        this.out.note(lines[i] ?? '');
      }
    });
  }
}

/** Polls the rollup until every job has ended, showing progress, and returns the last answer. */
export async function waitForLoad(
  client: ApiClient,
  out: Output,
  kind: TokenKind,
  token: string,
  timeoutMs?: number,
): Promise<LoadStatus> {
  const display = new ProgressDisplay(out);
  const started = Date.now();
  let delayMs = 100;
  for (;;) {
    const status = await fetchStatus(client, kind, token);
    display.show(status);
    if (status.rollup.allDone) return status;
    if (timeoutMs !== undefined && Date.now() - started > timeoutMs) {
      throw cliError('wait_timeout', status.rollup.status, seconds(timeoutMs), token);
    }
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    delayMs = Math.min(1000, delayMs * 2);
  }
}

/** Warnings and the error of one job, with the explanation when there is one. */
function problemsOf(out: Output, job: JobRollup, events: StatusEvent[]): string[] {
  const lines = events
    .filter((event) => event.pipelineToken === job.pipelineToken && event.code === 'warning')
    .map((event) => out.style.yellow(`${event.processName} warning: ${event.description}`));
  if (job.lastError) {
    lines.push(out.style.red(`${job.lastError.processName} failed: ${job.lastError.description}`));
    if (job.lastError.explanation) lines.push(`why: ${job.lastError.explanation}`);
  }
  return lines;
}

/** What landed: each loader's closing line, a total, then what was left out or went wrong. */
export function printLoadSummary(out: Output, status: LoadStatus): void {
  const { rollup, events } = status;
  for (const event of events) {
    if (event.processName.endsWith('Loader') && event.state === 'end' && event.code !== 'error') {
      out.line(`  ${event.processName}: ${event.description}`);
    }
  }
  const delivered = rollup.jobs
    .filter((job) => job.status === 'success' || job.status === 'warning')
    .reduce((sum, job) => sum + job.recordCount, 0);
  const pipelines = [...new Set(rollup.jobs.map((job) => job.pipeline))].join(', ');
  out.line(
    `load ${out.status(rollup.status)}: ${counted(rollup.jobCount, 'job')}, ` +
      `${counted(delivered, 'record')} loaded through pipeline ${pipelines}`,
  );

  const several = rollup.jobs.length > 1;
  for (const job of rollup.jobs) {
    const problems = problemsOf(out, job, events);
    if (problems.length === 0) continue;
    if (several) out.line(`  job ${job.pipelineToken}:`);
    for (const problem of problems) out.line(`${several ? '    ' : '  '}${problem}`);
  }
}

export function loadSucceeded(status: LoadStatus): boolean {
  return status.rollup.status === 'success' || status.rollup.status === 'warning';
}
