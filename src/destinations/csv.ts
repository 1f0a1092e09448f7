import type { Readable } from 'node:stream';
import { stringifyRecords } from '../records/record-json.js';

/**
 * CSV as RFC 4180 writes it, with `\n` line ends: a cell is quoted when it holds a comma, a
 * quote, a line break or surrounding spaces, and quotes inside are doubled. null is an empty
 * cell and the empty string is `""`, so the two stay apart. Objects and arrays are JSON text.
 */
export function csvRow(values: readonly unknown[]): string {
  let line = '';
  for (let index = 0; index < values.length; index += 1) {
    if (index > 0) line += ',';
    line += csvCell(values[index]);
  }
  return `${line}\n`;
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? stringifyRecords(value) : String(value);
  if (text === '') return '""';
  if (/[",\r\n]/.test(text) || text.trim() !== text) return `"${text.replace(/"/g, '""')}"`;
  return text;
}

/**
 * Copies CSV text after its first row (the old header), adding empty cells to each row written
 * before the header grew. `widths` says from which data row on rows had how many columns.
 */
export async function padCsvRows(
  source: Readable,
  widths: readonly { fromRow: number; columns: number }[],
  finalColumns: number,
  write: (chunk: Buffer) => Promise<unknown>,
): Promise<void> {
  let row = -1;
  let inQuotes = false;
  let step = 0;
  const paddingFor = (dataRow: number): Buffer => {
    while (step + 1 < widths.length && widths[step + 1]!.fromRow <= dataRow) step += 1;
    return Buffer.from(','.repeat(finalColumns - widths[step]!.columns));
  };

  for await (const chunk of source) {
    const bytes = chunk as Buffer;
    const parts: Buffer[] = [];
    let start = 0;
    for (let index = 0; index < bytes.length; index += 1) {
      const byte = bytes[index];
      if (byte === 0x22) inQuotes = !inQuotes;
      else if (byte === 0x0a && !inQuotes) {
        if (row >= 0) parts.push(bytes.subarray(start, index), paddingFor(row));
        start = row >= 0 ? index : index + 1;
        row += 1;
      }
    }
    if (row >= 0) parts.push(bytes.subarray(start));
    await write(Buffer.concat(parts));
  }
}
