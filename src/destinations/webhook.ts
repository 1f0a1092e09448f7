import { setTimeout as sleep } from 'node:timers/promises';
import type { Destination } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
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
 * POSTs a job's records in batches of `batchSize` as
 * `{"pipeline", "pipelineToken", "batch", "records": [...]}`.
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

  private pending: Record<string, unknown>[] = [];
  private batchNumber = 0;
  private sent = 0;

  constructor(
    private readonly destination: WebhookDestination,
    private readonly context: LoadContext,
  ) {
    // Origin and path only: a query string may carry a token.
    const url = new URL(destination.url);
    this.target = `${url.origin}${url.pathname} in batches of ${destination.batchSize}`;
  }

  async open(): Promise<OpenOutcome> {
    return { ok: true, alreadyLoaded: false };
  }

  async write(batch: LoadBatch): Promise<WriteOutcome> {
    for (const record of batch.records) this.pending.push(record);
    const before = this.sent;
    while (this.pending.length >= this.destination.batchSize) {
      const failure = await this.send(this.pending.splice(0, this.destination.batchSize));
      if (failure !== null) return { ok: false, message: failure };
    }
    return { ok: true, written: this.sent - before, rejected: [] };
  }

  async finish(): Promise<FinishOutcome> {
    if (this.pending.length > 0) {
      const failure = await this.send(this.pending.splice(0));
      if (failure !== null) return { ok: false, message: failure };
    }
    return {
      ok: true,
      loaded: this.sent,
      description: `sent ${this.sent} records in ${this.batchNumber} batches to ${this.target}`,
    };
  }

  async abort(): Promise<void> {
    // Batches already answered 2xx cannot be taken back; nothing else is held.
    this.pending = [];
  }

  /** Sends one batch with retries; null when a 2xx came back, else why it did not. */
  private async send(records: Record<string, unknown>[]): Promise<string | null> {
    this.batchNumber += 1;
    const { url, headers, timeoutMs, retries, backoffMs } = this.destination;
    const body = stringifyRecords({
      pipeline: this.context.pipeline.name,
      pipelineToken: this.context.pipelineToken,
      batch: this.batchNumber,
      records,
    });
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
          this.sent += records.length;
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
      `(${this.sent} records sent before it) after ${attempts} ` +
      `${attempts === 1 ? 'attempt' : 'attempts'}: ${lastProblem}`
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
