import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { MetadataStore, RunFinish } from '../store/store.js';
import { StateCommitter } from './state-committer.js';

let dataDir: string;
let store: MetadataStore;
let committer: StateCommitter;
beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-state-'));
  store = openSqliteStore(dataDir);
  committer = new StateCommitter(store);
  await store.taps.create({
    name: 'orders',
    description: '',
    kind: 'structured',
    script: 'def fetch():\n    return []\n',
    targetPipeline: 'orders',
    schedule: null,
    enabled: true,
    secret: null,
    timeoutSeconds: null,
  });
});
afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const finished: RunFinish = {
  status: 'success',
  recordCount: 1,
  recordsTruncated: false,
  dataType: 'json',
  columns: ['id'],
  logs: '',
  error: null,
  explanation: null,
  explanationSource: null,
  persisted: true,
  persistedReason: null,
  publisherToken: null,
  pipelineTokens: [],
  newState: undefined,
  finishedAt: new Date().toISOString(),
  durationMs: 5,
};

/** A run-mode run whose one job is in `jobStatus`, with `cursor` as its new state. */
async function runWithJob(
  id: string,
  cursor: number,
  jobStatus: 'queued' | 'succeeded' | 'failed',
  targetPipeline: string | null = 'orders',
) {
  const startedAt = new Date().toISOString();
  await store.runs.start({
    id,
    tap: 'orders',
    tapVersion: 1,
    mode: 'run',
    trigger: 'api',
    params: {},
    targetPipeline,
    updateState: true,
    startedAt,
  });
  const publisherToken = targetPipeline === null ? null : `pub-${id}`;
  if (publisherToken !== null) {
    await store.jobs.insert({
      pipelineToken: `job-${id}`,
      publisherToken,
      runId: id,
      tap: 'orders',
      pipeline: targetPipeline!,
      stagingPath: path.join(dataDir, 'staging', `${id}.ndjson`),
      filename: `${id}.ndjson`,
      recordCount: 1,
      createdAt: startedAt,
    });
    if (jobStatus !== 'queued') {
      await store.jobs.claim();
      await store.jobs.finish(`job-${id}`, {
        status: jobStatus,
        recordCount: 1,
        explanation: null,
      });
    }
  }
  await store.runs.finish(id, {
    ...finished,
    persisted: publisherToken !== null,
    publisherToken,
    pipelineTokens: publisherToken === null ? [] : [`job-${id}`],
    newState: { cursor },
  });
}

describe('StateCommitter', () => {
  it('never moves the state back when an older run finishes loading last', async () => {
    await runWithJob('older', 1, 'queued');
    await runWithJob('newer', 2, 'succeeded');
    expect(await committer.commitIfLoaded('newer')).toBe(true);

    await store.jobs.claim();
    await store.jobs.finish('job-older', {
      status: 'succeeded',
      recordCount: 1,
      explanation: null,
    });

    expect(await committer.commitIfLoaded('older')).toBe(false);
    expect((await store.state.get('orders'))?.state).toEqual({ cursor: 2 });
  });

  it('commits at start what a stopped server left: loaded runs only, oldest first', async () => {
    await runWithJob('loaded-1', 1, 'succeeded');
    await runWithJob('loaded-2', 2, 'succeeded');
    await runWithJob('failed-load', 3, 'failed');
    await runWithJob('no-pipeline', 4, 'succeeded', null);

    expect(await committer.commitPending()).toBe(2);

    expect((await store.state.get('orders'))?.state).toEqual({ cursor: 2 });
    expect((await store.runs.get('loaded-2'))?.stateCommitted).toBe(true);
    expect((await store.runs.get('failed-load'))?.stateCommitted).toBe(false);
    expect((await store.runs.get('no-pipeline'))?.stateCommitted).toBe(false);
    expect(await store.runs.pendingStateCommits()).toEqual([]);
  });
});

describe('abandonRunning', () => {
  it('settles a run that handed its records to a job as loaded, and any other as failed', async () => {
    const startedAt = new Date().toISOString();
    const start = { tap: 'orders', tapVersion: 1, mode: 'run' as const, trigger: 'api' as const };
    const run = { ...start, params: {}, targetPipeline: 'orders', updateState: true, startedAt };
    await store.runs.start({ ...run, id: 'handed-over' });
    await store.jobs.insert({
      pipelineToken: 'job-1',
      publisherToken: 'pub-1',
      runId: 'handed-over',
      tap: 'orders',
      pipeline: 'orders',
      stagingPath: path.join(dataDir, 'staging', 'handed-over.ndjson'),
      filename: 'handed-over.ndjson',
      recordCount: 42,
      createdAt: startedAt,
    });
    await store.taps.create({
      name: 'other',
      description: '',
      kind: 'structured',
      script: 'def fetch():\n    return []\n',
      targetPipeline: null,
      schedule: null,
      enabled: true,
      secret: null,
      timeoutSeconds: null,
    });
    await store.runs.start({ ...run, tap: 'other', id: 'cut-short' });

    expect(await store.runs.abandonRunning('the server stopped', 'records handed over')).toBe(2);

    expect(await store.runs.get('handed-over')).toMatchObject({
      status: 'success',
      persisted: true,
      persistedReason: null,
      publisherToken: 'pub-1',
      pipelineTokens: ['job-1'],
      recordCount: 42,
      error: null,
      explanation: 'records handed over',
      explanationSource: 'rules',
    });
    expect(await store.runs.get('cut-short')).toMatchObject({
      status: 'failure',
      persisted: false,
      persistedReason: 'run_error',
      error: 'the server stopped',
    });
  });
});
