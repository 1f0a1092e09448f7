/**
 * The Node end of the harness's record pipe (NDJSON, one record per line). It counts the lines
 * itself rather than trusting the script, stops at a record longer than the limit or once the
 * run's records pass their total limit, and either
 * keeps the parsed records (test mode) or streams the bytes to the staging file (run mode)
 * without holding them, pausing the pipe while the file catches up.
 */

import { createWriteStream, fdatasync, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { parseRecordJson } from '../records/record-json.js';

export interface RecordPipeOptions {
  /** Keep and parse the records (test mode). */
  keep: boolean;
  maxRecordBytes: number;
  stagingPath?: string;
  /** Called once when a record line passes maxRecordBytes; the caller stops the script. */
  onTooLarge: (recordNumber: number, bytesSoFar: number) => void;
  /** All record bytes of the run, newlines included. */
  maxTotalBytes: number;
  /** Called once when the run's record bytes pass maxTotalBytes; the caller stops the script. */
  onTooMuch: () => void;
  /** Called as the staging file grows, with the bytes written to it so far. */
  onStaged?: (bytes: number) => void;
}

/**
 * Staged bytes between two background syncs. The staging file is flushed to disk before the run
 * answers; syncing as it grows (as RocksDB's bytes_per_sync does) leaves that last flush a few
 * megabytes instead of the whole file, which took a tenth of a second per 1M records.
 */
const syncEveryBytes = 16 * 1024 * 1024;

export class RecordPipe {
  readonly records: Record<string, unknown>[] = [];
  count = 0;
  stagedBytes = 0;
  /** Why the stream is not valid NDJSON records, when it is not. */
  badOutput: string | null = null;
  /** Set once a limit was passed; the rest of the pipe is read and dropped. */
  halted = false;

  private totalBytes = 0;
  private lineBytes = 0;
  private readonly parts: Buffer[] = [];
  private readonly staging: WriteStream | undefined;
  private stagingError: Error | undefined;
  /** Bytes the staging file holds: counted when a write completes, not when it is queued. */
  private stagingWritten = 0;
  private stagingFd: number | undefined;
  private syncedUpTo = 0;
  /** A background sync of the staging file in flight; finish waits for it before closing. */
  private syncing: Promise<void> | undefined;
  private closing = false;

  constructor(private readonly options: RecordPipeOptions) {
    if (options.stagingPath !== undefined) {
      this.staging = createWriteStream(options.stagingPath, { flush: true });
      this.staging.once('open', (fd: number) => (this.stagingFd = fd));
    }
  }

  attach(stream: Readable): void {
    this.staging?.on('error', (error) => {
      // Keep reading so the script is not left blocked on a full pipe; finish() reports it.
      this.stagingError ??= error;
      stream.resume();
    });
    stream.on('data', (chunk: Buffer) => {
      if (this.halted) return;
      this.totalBytes += chunk.length;
      if (this.totalBytes > this.options.maxTotalBytes) {
        this.halted = true;
        this.options.onTooMuch();
        return;
      }
      this.scan(chunk);
      if (this.staging === undefined || this.halted || this.stagingError) return;
      this.stagedBytes += chunk.length;
      const written = (error: Error | null | undefined) => {
        if (error) return;
        this.stagingWritten += chunk.length;
        this.options.onStaged?.(this.stagingWritten);
        if (this.stagingWritten - this.syncedUpTo >= syncEveryBytes) this.syncInBackground();
      };
      if (!this.staging.write(chunk, written)) {
        stream.pause();
        this.staging.once('drain', () => stream.resume());
      }
    });
  }

  /**
   * Called once the pipe has ended: checks the last line was complete, then flushes the
   * staging file and its directory to disk so staged records survive a crash. Rejects only
   * when the staging file cannot be written, which is tapline's problem, not the script's.
   */
  async finish(): Promise<void> {
    if (this.lineBytes > 0 && !this.halted) {
      this.badOutput ??= 'the record pipe ended in the middle of a record';
    }
    if (this.staging === undefined) return;
    // No new background sync from here on: writes still queued would start one on an fd that
    // end() is about to close.
    this.closing = true;
    await this.syncing;
    this.staging.end();
    await finished(this.staging).catch(() => undefined);
    if (this.stagingError !== undefined) throw this.stagingError;
    await syncDirectory(path.dirname(this.options.stagingPath!));
  }

  private syncInBackground(): void {
    const fd = this.stagingFd;
    if (this.syncing !== undefined || fd === undefined || this.closing || this.stagingError) return;
    this.syncedUpTo = this.stagingWritten;
    this.syncing = new Promise((resolve) => {
      // A failed sync changes nothing: the flush at the end is the one that must succeed.
      fdatasync(fd, () => {
        this.syncing = undefined;
        resolve();
      });
    });
  }

  private scan(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.lineBytes += end - start;
      if (this.lineBytes > this.options.maxRecordBytes) {
        this.halted = true;
        this.options.onTooLarge(this.count + 1, this.lineBytes);
        return;
      }
      if (this.options.keep && end > start) this.parts.push(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  private endLine(): void {
    this.count += 1;
    this.lineBytes = 0;
    if (!this.options.keep) return;
    const text = Buffer.concat(this.parts).toString('utf8');
    this.parts.length = 0;
    let record: unknown;
    try {
      record = parseRecordJson(text);
    } catch {
      record = undefined;
    }
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) {
      this.records.push(record as Record<string, unknown>);
    } else {
      this.badOutput ??= `record ${this.count} on the record pipe is not a JSON object`;
    }
  }
}

async function syncDirectory(directory: string): Promise<void> {
  // A new file's name lives in its directory; without this a crash can lose the file itself.
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
