import { createReadStream } from 'node:fs';
import { parseRecordJson } from '../records/record-json.js';

/** A slice of the staged file: parsed records with their line numbers, and lines refused. */
export interface StagedBatch {
  records: Record<string, unknown>[];
  lines: number[];
  refused: { line: number; reason: string }[];
  bytes: number;
}

export interface BatchLimits {
  /** Records per batch. */
  rows: number;
  /** Bytes of staged text per batch; a batch closes at whichever limit comes first. */
  bytes: number;
}

export const defaultBatchLimits: BatchLimits = { rows: 1_000, bytes: 1024 * 1024 };

/**
 * Streams a staged NDJSON file in bounded batches, so a job of any size is held one batch at a
 * time. Lines are records (objects); row lists staged as arrays are read the way a tap returns
 * them, the first array being the header. Integers beyond 2^53 arrive as BigInt.
 */
export async function* readStagedBatches(
  stagingPath: string,
  limits: BatchLimits = defaultBatchLimits,
): AsyncGenerator<StagedBatch> {
  let batch = emptyBatch();
  let header: string[] | undefined;
  let line = 0;
  let rest: Buffer | undefined;

  const take = (bytes: Buffer): void => {
    line += 1;
    batch.bytes += bytes.length + 1;
    const text = bytes.toString('utf8').trim();
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
      if (header === undefined) {
        header = parsed.map(String);
        return;
      }
      const row: unknown[] = parsed;
      parsed = Object.fromEntries(header.map((key, index) => [key, row[index] ?? null]));
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      batch.refused.push({ line, reason: `record ${line}: not a JSON object` });
      return;
    }
    batch.records.push(parsed as Record<string, unknown>);
    batch.lines.push(line);
  };

  const full = () => batch.records.length >= limits.rows || batch.bytes >= limits.bytes;

  for await (const chunk of createReadStream(stagingPath, { highWaterMark: 1024 * 1024 })) {
    const buffer = rest === undefined ? (chunk as Buffer) : Buffer.concat([rest, chunk as Buffer]);
    let start = 0;
    let newline = buffer.indexOf(10, start);
    while (newline !== -1) {
      take(buffer.subarray(start, newline));
      start = newline + 1;
      if (full()) {
        yield batch;
        batch = emptyBatch();
      }
      newline = buffer.indexOf(10, start);
    }
    rest = start < buffer.length ? buffer.subarray(start) : undefined;
  }
  if (rest !== undefined && rest.length > 0) {
    take(rest);
    batch.bytes -= 1;
  }
  if (batch.records.length > 0 || batch.refused.length > 0 || batch.bytes > 0) yield batch;
}

function emptyBatch(): StagedBatch {
  return { records: [], lines: [], refused: [], bytes: 0 };
}
