import { open } from 'node:fs/promises';
import { parseRecordJson } from '../records/record-json.js';
import { StagingProgress } from './staging-progress.js';

/** A slice of the staged file: parsed records with their line numbers, and lines refused. */
export interface StagedBatch {
  records: Record<string, unknown>[];
  lines: number[];
  refused: { line: number; reason: string }[];
  bytes: number;
}

export interface BatchLimits {
  /** Lines (records) per batch. */
  rows: number;
  /** Bytes of staged text per batch; a batch closes at whichever limit comes first. */
  bytes: number;
}

/**
 * Small enough that a batch is under a millisecond of work on the event loop, large enough that
 * the per-batch cost does not show (the same load time at 128 rows as at 1,000).
 */
export const defaultBatchLimits: BatchLimits = { rows: 128, bytes: 128 * 1024 };

export interface StagingSource {
  limits?: BatchLimits;
  /** A file its run is still writing: read up to where it is written, then wait for more. */
  progress?: StagingProgress;
  /** Stops a reader waiting for more of a growing file. */
  signal?: AbortSignal;
}

const chunkBytes = 1024 * 1024;

/**
 * Streams a staged NDJSON file in bounded batches, so a job of any size is held one batch at a
 * time. Lines are records (objects); row lists staged as arrays are read the way a tap returns
 * them, the first array being the header. Integers beyond 2^53 arrive as BigInt. A file still
 * being written is followed to its end.
 */
export async function* readStagedBatches(
  stagingPath: string,
  source: StagingSource = {},
): AsyncGenerator<StagedBatch> {
  const limits = source.limits ?? defaultBatchLimits;
  const lines = new LineReader();
  let batch = emptyBatch();
  let batchLines = 0;
  let rest: Buffer | undefined;

  for await (const chunk of readChunks(stagingPath, source)) {
    const buffer = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    // [start, end) holds whole lines counted into the batch but not yet read.
    let start = 0;
    let end = 0;
    for (let newline = buffer.indexOf(10); newline !== -1; newline = buffer.indexOf(10, end)) {
      batch.bytes += newline + 1 - end;
      batchLines += 1;
      end = newline + 1;
      if (batchLines >= limits.rows || batch.bytes >= limits.bytes) {
        lines.read(buffer, start, end - 1, batch);
        start = end;
        yield batch;
        batch = emptyBatch();
        batchLines = 0;
      }
    }
    if (end > start) lines.read(buffer, start, end - 1, batch);
    rest = end < buffer.length ? buffer.subarray(end) : undefined;
  }
  if (rest !== undefined) {
    batch.bytes += rest.length;
    lines.read(rest, 0, rest.length, batch);
  }
  if (batch.records.length > 0 || batch.refused.length > 0 || batch.bytes > 0) yield batch;
}

/** Turns staged lines into records, numbering them and keeping a row list's header. */
class LineReader {
  private line = 0;
  private header: string[] | undefined;

  /** Reads the lines in buffer[start, end) (newline-separated, none at the end) into `batch`. */
  read(buffer: Buffer, start: number, end: number, batch: StagedBatch): void {
    // One decode for many lines: a newline byte never falls inside a UTF-8 sequence, so the
    // text splits into exactly the lines the bytes held.
    for (const text of buffer.toString('utf8', start, end).split('\n')) this.take(text, batch);
  }

  private take(raw: string, batch: StagedBatch): void {
    this.line += 1;
    const line = this.line;
    const text = raw.trim();
    if (text === '') return;

    let parsed: unknown;
    try {
      parsed = parseRecordJson(text);
    } catch (error) {
      batch.refused.push({
        line,
        reason: `record ${line}: not JSON (${(error as Error).message})`,
      });
      return;
    }
    if (Array.isArray(parsed)) {
      if (this.header === undefined) {
        this.header = parsed.map(String);
        return;
      }
      const row: unknown[] = parsed;
      parsed = Object.fromEntries(this.header.map((key, index) => [key, row[index] ?? null]));
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      batch.refused.push({ line, reason: `record ${line}: not a JSON object` });
      return;
    }
    batch.records.push(parsed as Record<string, unknown>);
    batch.lines.push(line);
  }
}

/** The file's bytes in order, up to where its writer has got (all of it, for a finished file). */
async function* readChunks(stagingPath: string, source: StagingSource): AsyncGenerator<Buffer> {
  const file = await open(stagingPath, 'r');
  try {
    const progress = source.progress ?? StagingProgress.complete((await file.stat()).size);
    let position = 0;
    for (;;) {
      const extent = await progress.beyond(position, source.signal);
      while (position < extent.size) {
        const buffer = Buffer.allocUnsafe(Math.min(chunkBytes, extent.size - position));
        const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) throw new Error(`the staged file ended at byte ${position}`);
        position += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
      if (extent.ended) return;
    }
  } finally {
    await file.close();
  }
}

function emptyBatch(): StagedBatch {
  return { records: [], lines: [], refused: [], bytes: 0 };
}
