import { setTimeout as sleep } from 'node:timers/promises';
import type { Destination } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
import { counted } from '../status/counted.js';
import type {
  DestinationLoader,
  FinishOutcome,
  LoadBatch,
  LoadContext,
  OpenOutcome,
  WriteOutcome,
} from './destination.js';

type WebhookDestination = Extract<Destination, { type: 'webhook' }>;

const bodyExcerptLength = 300;

/**
 * POSTs a job's records in batches of at most `batchSize` records and `maxBatchBytes` bytes of
 * body, as `{"pipeline", "pipelineToken", "batch", "records": [...]}`. A record whose body alone
 * would pass `maxBatchBytes` is sent in a batch of its own rather than refused: the receiver is
 * the judge of what it accepts.
 *
 * A webhook is at-least-once by nature: a batch the receiver stored but whose answer was lost
 * is sent again by the retry, and a job re-run after a crash sends every batch again. Each batch
 * therefore carries `Idempotency-Key: <pipelineToken>-<batch>`, the same on every attempt and
 * every re-run (batches are cut the same way each time), so a receiver that honours the key
 * stores each batch once.
 */
export class WebhookLoader implements DestinationLoader {
  readonly processName = 'WebhookLoader';
  readonly transactional = false;
  readonly target: string;

  /** The records waiting for the next batch, each as its JSON text. */
  private pending: string[] = [];
  private pendingBytes = 0;
  /** The body's bytes besides the records' texts and commas, for the next batch. */
  private envelopeBytes: number;
  private batchNumber = 0;
  private sent = 0;

  constructor(
    private readonly destination: WebhookDestination,
    private readonly context: LoadContext,
  ) {
    // Origin and path only: a query string may carry a token.
    const url = new URL(destination.url);
    this.target = `${url.origin}${url.pathname} in batches of ${destination.batchSize}`;
    this.envelopeBytes = this.envelope(1, '').length;
  }

  async open(): Promise<OpenOutcome> {
    return { ok: true, alreadyLoaded: false };
  }

  async write(batch: LoadBatch): Promise<WriteOutcome> {
    const { batchSize, maxBatchBytes } = this.destination;
    const before = this.sent;
    for (const record of batch.records) {
      const text = stringifyRecords(record);
      const bytes = Buffer.byteLength(text);
      if (this.pending.length > 0 && this.bodyBytes(bytes) > maxBatchBytes) {
        const failure = await this.sendPending();
        if (failure !== null) return { ok: false, message: failure };
      }
      this.pending.push(text);
      this.pendingBytes += bytes;
      if (this.pending.length >= batchSize || this.bodyBytes(0) >= maxBatchBytes) {
        const failure = await this.sendPending();
        if (failure !== null) return { ok: false, message: failure };
      }
    }
    return { ok: true, written: this.sent - before, rejected: [] };
  }

  async finish(): Promise<FinishOutcome> {
    if (this.pending.length > 0) {
      const failure = await this.sendPending();
      if (failure !== null) return { ok: false, message: failure };
    }
    return {
      ok: true,
      loaded: this.sent,
      description:
        `sent ${counted(this.sent, 'record')} in ${counted(this.batchNumber, 'batch', 'batches')} ` +
        `to ${this.target}`,
    };
  }

  async abort(): Promise<void> {
    // Batches already answered 2xx cannot be taken back; nothing else is held.
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** The body's size with the pending records and one more of `more` bytes (0: none). */
  private bodyBytes(more: number): number {
    const records = this.pending.length + (more > 0 ? 1 : 0);
    const commas = Math.max(0, records - 1);
    return this.envelopeBytes + this.pendingBytes + more + commas;
  }

  /** The body around the records' texts; names and tokens are ASCII, so length is bytes. */
  private envelope(batch: number, records: string): string {
    return (
      `{"pipeline":${JSON.stringify(this.context.pipeline.name)},` +
      `"pipelineToken":${JSON.stringify(this.context.pipelineToken)},` +
      `"batch":${batch},"records":[${records}]}`
    );
  }

  private async sendPending(): Promise<string | null> {
    const texts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return this.send(texts);
  }

  /** Sends one batch with retries; null when a 2xx came back, else why it did not. */
  private async send(texts: string[]): Promise<string | null> {
    this.batchNumber += 1;
    this.envelopeBytes = this.envelope(this.batchNumber + 1, '').length;
    const { url, headers, timeoutMs, retries, backoffMs } = this.destination;
    const body = this.envelope(this.batchNumber, texts.join(','));
    const requestHeaders = {
      ...headers,
      'content-type': 'application/json',
      'idempotency-key': `${this.context.pipelineToken}-${this.batchNumber}`,
    };

    let lastProblem = '';
    let attempts = 0;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      if (attempt > 0) {
        const waited = await sleep(backoffMs * 2 ** (attempt - 1), true, {
          signal: this.context.signal,
        }).catch(() => false);
        if (!waited) return 'stopped: the server is shutting down';
      }
      attempts += 1;
      const signals = [AbortSignal.timeout(timeoutMs)];
      if (this.context.signal) signals.push(this.context.signal);
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: requestHeaders,
          body,
          signal: AbortSignal.any(signals),
        });
        const text = await response.text().catch(() => '');
        if (response.ok) {
          this.sent += texts.length;
          return null;
        }
        lastProblem = `HTTP ${response.status}${text ? `: ${excerptOf(text)}` : ''}`;
        if (!retryable(response.status)) break;
      } catch (error) {
        if (this.context.signal?.aborted) return 'stopped: the server is shutting down';
        lastProblem =
          (error as Error).name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : `network error: ${networkCause(error)}`;
      }
    }
    return (
      `POST ${this.target.split(' ')[0]} failed for batch ${this.batchNumber} ` +
      `(${counted(this.sent, 'record')} sent before it) after ${counted(attempts, 'attempt')}: ` +
      lastProblem
    );
  }
}

/** Server trouble and rate limits may pass; other 4xx answers will not change on retry. */
function retryable(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

function excerptOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > bodyExcerptLength ? `${flat.slice(0, bodyExcerptLength)}...` : flat;
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
