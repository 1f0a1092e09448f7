import { stringifyRecords } from '../records/record-json.js';
import { counted } from '../status/counted.js';
import type { Output } from './output.js';

export interface TableOptions {
  /** Total width the table must fit in, separators included. */
  width: number;
  /** Applied to the header row after padding, so colour codes never skew the layout. */
  header?: (text: string) => string;
  /** Columns never cut short, such as tokens a user copies; they are still left out last. */
  whole?: string[];
}

export interface RenderedTable {
  lines: string[];
  /** Columns left out because even at their narrowest they did not fit. */
  hiddenColumns: string[];
}

const separator = '  ';
const widestCell = 60;
const narrowestColumn = 6;

/** One line of text for a value: records hold strings, numbers, BigInts, nulls and JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'object'
        ? stringifyRecords(value)
        : String(value);
  // A newline or tab inside a cell would break the grid.
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
}

function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  return `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

function length(text: string): number {
  return [...text].length;
}

const numeric = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * Lays rows out in columns that fit `width`: long values give way first (down to their
 * header's width), then headers (down to their values' width), then every column down to a
 * few characters (all but the `whole` ones); when even that does not fit, the rightmost columns
 * are left out and named.
 */
export function renderTable(
  headers: string[],
  rows: unknown[][],
  options: TableOptions,
): RenderedTable {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const rightAligned = headers.map(
    (_, i) =>
      cells.some((row) => row[i] !== '') &&
      cells.every((row) => row[i] === '' || numeric.test(row[i] ?? '')),
  );

  const whole = headers.map((header) => options.whole?.includes(header) === true);
  const natural = headers.map((header, i) => {
    const widest = Math.max(length(header), ...cells.map((row) => length(row[i] ?? '')));
    return whole[i] ? widest : Math.min(widestCell, widest);
  });
  const floorOf = (lengths: number[]) =>
    headers.map((_, i) =>
      whole[i]
        ? (natural[i] ?? 0)
        : Math.min(natural[i] ?? 0, Math.max(narrowestColumn, lengths[i] ?? 0)),
    );
  const headerWidths = headers.map(length);
  const valueWidths = headers.map((_, i) =>
    Math.max(0, ...cells.map((row) => length(row[i] ?? ''))),
  );
  const floors = [floorOf(headerWidths), floorOf(valueWidths), floorOf([])];
  const total = (widths: number[]) =>
    widths.reduce((sum, w) => sum + w, 0) + separator.length * Math.max(0, widths.length - 1);

  /** Widths for the first `shown` columns, shrunk floor by floor until they fit. */
  const fit = (shown: number): number[] => {
    const widths = natural.slice(0, shown);
    for (const floor of floors) {
      while (total(widths) > options.width) {
        let widest = -1;
        let widestSlack = 0;
        widths.forEach((w, i) => {
          const slack = w - (floor[i] ?? 0);
          if (slack > widestSlack) [widest, widestSlack] = [i, slack];
        });
        if (widest < 0) break;
        widths[widest] = (widths[widest] ?? 0) - 1;
      }
    }
    return widths;
  };

  let shown = headers.length;
  let widths = fit(shown);
  while (total(widths) > options.width && shown > 1) {
    shown -= 1;
    widths = fit(shown);
  }

  const format = (values: string[]) =>
    widths
      .map((w, i) => {
        const text = truncate(values[i] ?? '', w);
        const pad = ' '.repeat(Math.max(0, w - length(text)));
        return rightAligned[i] ? pad + text : text + pad;
      })
      .join(separator)
      .trimEnd();

  const paintHeader = options.header ?? ((text: string) => text);
  return {
    lines: [paintHeader(format(headers)), ...cells.map(format)],
    hiddenColumns: headers.slice(shown),
  };
}

/** A table fitted to the output's width, with a note when columns had to be left out. */
export function printTable(
  out: Output,
  headers: string[],
  rows: unknown[][],
  options: { whole?: string[] } = {},
): void {
  const table = renderTable(headers, rows, {
    width: out.width,
    header: out.style.bold,
    whole: options.whole,
  });
  for (const line of table.lines) out.line(line);
  if (table.hiddenColumns.length > 0) {
    const names = table.hiddenColumns.join(', ');
    out.line(
      out.style.dim(
        `(${counted(table.hiddenColumns.length, 'more column', 'more columns')}: ${names}; ` +
          '--json shows all)',
      ),
    );
  }
}
