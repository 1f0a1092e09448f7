import { describe, expect, it } from 'vitest';
import type { EventCode, EventState, Job, StatusEvent } from '../store/store.js';
import { rollupJobs } from './rollup.js';

const start = Date.parse('2026-05-01T06:00:00.000Z');
const hour = 3_600_000;
const timeoutMs = 8 * hour;

function job(token: string): Job {
  return {
    pipelineToken: token,
    publisherToken: 'pub',
    runId: 'run',
    tap: 'orders',
    pipeline: 'orders',
    stagingPath: `/staging/${token}.ndjson`,
    filename: `${token}.ndjson`,
    status: 'running',
    attempts: 1,
    recordCount: 3,
    explanation: null,
    createdAt: new Date(start).toISOString(),
    startedAt: null,
    finishedAt: null,
  };
}

let nextId = 1;

/** `lines` are "Process:state:code" at one second apart, from `start`. */
function events(token: string, ...lines: string[]): StatusEvent[] {
  return lines.map((line, index) => {
    const [processName, state, code, description] = line.split(':') as [
      string,
      EventState,
      EventCode,
      string | undefined,
    ];
    const epoch = start + index * 1000;
    return {
      id: nextId++,
      dateTime: new Date(epoch).toISOString(),
      epoch,
      pipeline: 'orders',
      processName,
      publisherToken: 'pub',
      pipelineToken: token,
      filename: `${token}.ndjson`,
      state,
      code,
      description: description ?? `${processName} ${state}`,
    };
  });
}

const succeeded = (token: string) =>
  events(token, 'JobRunner:begin:info', 'SqliteLoader:end:info', 'JobRunner:end:info');
const warned = (token: string) =>
  events(
    token,
    'JobRunner:begin:info',
    'DataQuality:processing:warning:rejected 1 of 3 records',
    'JobRunner:end:info',
  );
const failed = (token: string) =>
  events(
    token,
    'JobRunner:begin:info',
    'WebhookLoader:end:error:HTTP 500',
    'JobRunner:end:error:failed in WebhookLoader',
  );
const running = (token: string) => events(token, 'JobRunner:begin:info', 'SqliteLoader:begin:info');

describe('rollupJobs', () => {
  it('is processing and not done with no jobs', () => {
    expect(rollupJobs([], [], start, timeoutMs)).toEqual({
      status: 'processing',
      allDone: false,
      jobCount: 0,
      jobs: [],
    });
  });

  it('shows a job still loading as processing, with its time so far', () => {
    const rollup = rollupJobs([job('a')], running('a'), start + 10_000, timeoutMs);
    expect(rollup).toMatchObject({ status: 'processing', allDone: false, jobCount: 1 });
    expect(rollup.jobs[0]).toEqual({
      pipelineToken: 'a',
      pipeline: 'orders',
      status: 'processing',
      startedAt: '2026-05-01T06:00:00.000Z',
      lastEventAt: '2026-05-01T06:00:01.000Z',
      elapsedMs: 10_000,
      recordCount: 3,
      lastError: null,
    });
  });

  it('is success when every job ended without warnings, timed to the end event', () => {
    const rollup = rollupJobs(
      [job('a'), job('b')],
      [...succeeded('a'), ...succeeded('b')],
      start + hour,
      timeoutMs,
    );
    expect(rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 2 });
    expect(rollup.jobs.map((one) => [one.status, one.elapsedMs, one.lastError])).toEqual([
      ['success', 2000, null],
      ['success', 2000, null],
    ]);
  });

  it('is warning when an ended job warned, even while another still runs', () => {
    const rollup = rollupJobs(
      [job('a'), job('b')],
      [...warned('a'), ...running('b')],
      start + 5000,
      timeoutMs,
    );
    expect(rollup.status).toBe('warning');
    expect(rollup.allDone).toBe(false);
    expect(rollup.jobs.map((one) => one.status)).toEqual(['warning', 'processing']);
  });

  it('is error when a job failed, naming the stage that failed rather than JobRunner', () => {
    const failing = { ...job('b'), explanation: 'The webhook answered 500.' };
    const rollup = rollupJobs(
      [job('a'), failing],
      [...succeeded('a'), ...failed('b')],
      start + 5000,
      timeoutMs,
    );
    expect(rollup).toMatchObject({ status: 'error', allDone: true });
    expect(rollup.jobs[1]).toMatchObject({
      status: 'error',
      lastError: {
        processName: 'WebhookLoader',
        description: 'HTTP 500',
        explanation: 'The webhook answered 500.',
      },
    });
  });

  it('times out a job with no end past the job timeout, and says which limit it passed', () => {
    const beforeLimit = rollupJobs([job('a')], running('a'), start + timeoutMs, timeoutMs);
    expect(beforeLimit.jobs[0]!.status).toBe('processing');

    const rollup = rollupJobs([job('a')], running('a'), start + timeoutMs + 1, timeoutMs);
    expect(rollup).toMatchObject({ status: 'error', allDone: true, jobCount: 1 });
    expect(rollup.jobs[0]).toMatchObject({
      status: 'timed_out',
      elapsedMs: timeoutMs + 1,
      lastError: {
        processName: 'JobRunner',
        description: 'no end within 28800 s (jobs.timeoutSeconds)',
        explanation: null,
      },
    });
  });

  it('times out a queued job with no events from when it was created', () => {
    const rollup = rollupJobs([job('a')], [], start + timeoutMs + 1, timeoutMs);
    expect(rollup.jobs[0]).toMatchObject({
      status: 'timed_out',
      startedAt: '2026-05-01T06:00:00.000Z',
      lastEventAt: null,
    });
  });
});
