import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadJob, type JobEvent } from '../jobs/load-job.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import type { Job } from '../store/store.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** When the request's body had arrived, from performance.now(). */
  at: number;
}

let dataDir: string;
let server: Server;
let received: Received[];
/** What the next requests get; `hang` never answers. */
let answers: ({ status: number; body: string } | 'hang')[];

beforeEach(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-webhook-'));
  received = [];
  answers = [];
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body, at: performance.now() });
      const answer = answers.shift() ?? { status: 200, body: 'ok' };
      if (answer !== 'hang') response.writeHead(answer.status).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dataDir, { recursive: true, force: true });
});

interface HookOptions {
  batchSize?: number;
  maxBatchBytes?: number;
  retries?: number;
  timeoutMs?: number;
  backoffMs?: number;
}

async function send(ndjson: string, options: HookOptions = {}) {
  const { port } = server.address() as AddressInfo;
  const pipeline = pipelineSchema.parse({
    name: 'orders',
    destinations: [
      {
        type: 'webhook',
        url: `http://127.0.0.1:${port}/hook?token=s3cret`,
        headers: { authorization: 'Bearer abc' },
        backoffMs: 5,
        ...options,
      },
    ],
  });
  const stagingPath = path.join(dataDir, 'job.ndjson');
  writeFileSync(stagingPath, ndjson);
  const job: Job = {
    pipelineToken: 'tok-1',
    publisherToken: 'pub',
    runId: 'run',
    tap: 'tap',
    pipeline: 'orders',
    stagingPath,
    filename: 'job.ndjson',
    status: 'running',
    attempts: 1,
    recordCount: 0,
    explanation: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
  const events: JobEvent[] = [];
  const result = await loadJob({
    job,
    pipeline,
    dataDir,
    emit: async (event) => {
      events.push(event);
    },
  });
  return { result, events };
}

describe('webhook destination', () => {
  it('POSTs batches with exact big integers and an idempotency key per batch', async () => {
    const { result, events } = await send('{"id": 2033735037361704962}\n{"id": 2}\n{"id": 3}\n', {
      batchSize: 2,
    });
    expect(result.status).toBe('succeeded');
    expect(received.map((request) => request.body)).toEqual([
      '{"pipeline":"orders","pipelineToken":"tok-1","batch":1,"records":' +
        '[{"id":2033735037361704962},{"id":2}]}',
      '{"pipeline":"orders","pipelineToken":"tok-1","batch":2,"records":[{"id":3}]}',
    ]);
    expect(received.map((request) => request.headers['idempotency-key'])).toEqual([
      'tok-1-1',
      'tok-1-2',
    ]);
    expect(received[0]!.headers.authorization).toBe('Bearer abc');
    expect(events.at(-1)).toMatchObject({
      processName: 'WebhookLoader',
      state: 'end',
      code: 'info',
      description: expect.stringMatching(
        /^sent 3 records in 2 batches to http:\/\/127.0.0.1:\d+\/hook in/,
      ),
    });
  });

  it('retries a 5xx, then succeeds', async () => {
    answers = [
      { status: 503, body: 'busy' },
      { status: 429, body: 'slow down' },
    ];
    const { result } = await send('{"id": 1}\n');
    expect(result.status).toBe('succeeded');
    expect(received).toHaveLength(3);
    expect(new Set(received.map((request) => request.headers['idempotency-key']))).toEqual(
      new Set(['tok-1-1']),
    );
  });

  it('fails after its retries with the last status and a body excerpt', async () => {
    answers = Array.from({ length: 3 }, () => ({ status: 500, body: 'database exploded' }));
    const { result, events } = await send('{"id": 1}\n', { retries: 2 });
    const { port } = server.address() as AddressInfo;
    const description =
      `POST http://127.0.0.1:${port}/hook failed for batch 1 (0 records sent before it) ` +
      'after 3 attempts: HTTP 500: database exploded';
    expect(received).toHaveLength(3);
    expect(result).toMatchObject({
      status: 'failed',
      error: { processName: 'WebhookLoader', description },
    });
    expect(events.at(-1)).toEqual({
      processName: 'WebhookLoader',
      state: 'end',
      code: 'error',
      description,
    });
  });

  it('does not retry a 4xx that will not change', async () => {
    answers = [{ status: 400, body: 'bad payload' }];
    const { result } = await send('{"id": 1}\n');
    expect(received).toHaveLength(1);
    expect(result.error?.description).toMatch(/after 1 attempt: HTTP 400: bad payload$/);
  });

  it('cuts batches by bytes too, and sends a record larger than the cap alone', async () => {
    const text = (n: number) => 'x'.repeat(n);
    // The envelope is 68 bytes; the records are 518 bytes as JSON, the third 2018.
    const records = [
      { id: 1, note: text(500) },
      { id: 2, note: text(500) },
      { id: 3, note: text(2000) },
      { id: 4, note: text(500) },
    ];
    const { result, events } = await send(records.map((r) => JSON.stringify(r)).join('\n'), {
      maxBatchBytes: 1200,
    });
    expect(result.status).toBe('succeeded');
    const batches = received.map((request) => JSON.parse(request.body));
    expect(batches.map((body) => body.records.map((r: { id: number }) => r.id))).toEqual([
      [1, 2],
      [3],
      [4],
    ]);
    expect(received.map((request) => Buffer.byteLength(request.body))).toEqual([1105, 2086, 586]);
    expect(events.at(-1)?.description).toMatch(/^sent 4 records in 3 batches to /);
  });

  it('gives up on a receiver that never answers, naming the timeout and the attempts', async () => {
    answers = ['hang', 'hang'];
    const { result } = await send('{"id": 1}\n', { retries: 1, timeoutMs: 200 });
    const { port } = server.address() as AddressInfo;
    expect(received).toHaveLength(2);
    expect(result).toMatchObject({
      status: 'failed',
      error: {
        processName: 'WebhookLoader',
        description:
          `POST http://127.0.0.1:${port}/hook failed for batch 1 (0 records sent before it) ` +
          'after 2 attempts: no answer within 200 ms',
      },
    });
  });

  it('waits longer before each further retry', async () => {
    answers = Array.from({ length: 3 }, () => ({ status: 503, body: 'busy' }));
    const { result } = await send('{"id": 1}\n', { retries: 3, backoffMs: 100 });
    expect(result.status).toBe('succeeded');
    expect(received).toHaveLength(4);
    const waits = received.slice(1).map((request, index) => request.at - received[index]!.at);
    // backoffMs, then twice, then four times as long; a timer never fires early.
    expect(waits[0]).toBeGreaterThanOrEqual(99);
    expect(waits[1]).toBeGreaterThanOrEqual(199);
    expect(waits[2]).toBeGreaterThanOrEqual(399);
    expect(waits[2]!).toBeLessThan(2_000);
  });
});
