/**
 * The Node end of the harness's control pipe: one JSON line at the end of the run saying how it
 * went. Lossless parsing keeps large integers in the script's new state exact.
 */

import type { Readable } from 'node:stream';
import { parseRecordJson } from '../records/record-json.js';
import type { DataType } from '../store/store.js';

/** What harness.py writes on fd 4 when the script is done or has failed. */
export interface HarnessReport {
  type: 'done' | 'error';
  /** A ScriptFailureKind, for `error`. */
  kind?: string;
  error?: string;
  /** Records the harness wrote; checked against the lines Node counted. */
  count: number;
  columns: string[];
  dataType: DataType | null;
  truncated?: boolean;
  state?: unknown;
  /** For record_too_large: which record, and its size in bytes. */
  record?: number;
  bytes?: number;
}

const slack = 1024 * 1024;

export class ControlPipe {
  report: HarnessReport | undefined;
  badOutput: string | null = null;

  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  /** `maxBytes` bounds memory if a script writes to the pipe itself; the state rides in it. */
  constructor(
    private readonly maxBytes: number,
    private readonly onReport: () => void,
  ) {}

  static forRecordLimit(maxRecordBytes: number, onReport: () => void): ControlPipe {
    return new ControlPipe(maxRecordBytes + slack, onReport);
  }

  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer) => {
      if (this.report !== undefined || this.badOutput !== null) return;
      this.bytes += chunk.length;
      if (this.bytes > this.maxBytes) {
        this.badOutput = `the control pipe carried more than ${this.maxBytes} bytes`;
        this.chunks.length = 0;
        return;
      }
      this.chunks.push(chunk);
      if (chunk.includes(0x0a)) this.parse();
    });
  }

  private parse(): void {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks.length = 0;
    const line = text.slice(0, text.indexOf('\n'));
    let report: unknown;
    try {
      report = parseRecordJson(line);
    } catch {
      report = undefined;
    }
    if (!isReport(report)) {
      this.badOutput = 'the harness wrote a control message tapline does not understand';
      return;
    }
    this.report = report;
    this.onReport();
  }
}

function isReport(value: unknown): value is HarnessReport {
  if (typeof value !== 'object' || value === null) return false;
  const report = value as Partial<HarnessReport>;
  return (
    (report.type === 'done' || report.type === 'error') &&
    typeof report.count === 'number' &&
    Array.isArray(report.columns)
  );
}
