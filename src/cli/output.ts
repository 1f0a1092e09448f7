import { stringify } from 'lossless-json';

type Paint = (text: string) => string;

export interface Style {
  bold: Paint;
  dim: Paint;
  red: Paint;
  green: Paint;
  yellow: Paint;
  cyan: Paint;
}

/**
 * A reader that stops early (`tapline tap runs x | head -1`) closes the pipe; the rest of the
 * output is not wanted, so it is dropped without a word. The command still ends as it would
 * have, and its exit code still says how it went.
 */
export function dropOutputToClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
}

const plain: Paint = (text) => text;
const ansi =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/**
 * Where a command writes: human text with colours only on a terminal (and never when NO_COLOR
 * is set, https://no-color.org), or JSON for scripts with `--json`.
 */
export class Output {
  readonly json: boolean;
  readonly color: boolean;
  readonly style: Style;
  /** Width tables fit into: the terminal's, else COLUMNS, else 120 for pipes and files. */
  readonly width: number;
  readonly interactive: boolean;

  constructor(options: { json: boolean; color?: boolean }) {
    const tty = process.stdout.isTTY === true;
    this.json = options.json;
    this.interactive = tty && !options.json;
    this.color =
      options.color !== false &&
      tty &&
      process.env.NO_COLOR === undefined &&
      process.env.TERM !== 'dumb';
    this.style = this.color
      ? {
          bold: ansi(1, 22),
          dim: ansi(2, 22),
          red: ansi(31, 39),
          green: ansi(32, 39),
          yellow: ansi(33, 39),
          cyan: ansi(36, 39),
        }
      : { bold: plain, dim: plain, red: plain, green: plain, yellow: plain, cyan: plain };
    const columns = Number(process.env.COLUMNS);
    this.width = process.stdout.columns || (columns > 0 ? columns : 120);
  }

  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  }

  /** Messages about the command itself (progress, hints) go to stderr, away from data. */
  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    // lossless-json writes BigInt record values as the exact digits they arrived as.
    process.stdout.write(`${stringify(value, undefined, 2) ?? 'null'}\n`);
  }

  /** A status word coloured by how it went. */
  status(status: string): string {
    if (['success', 'succeeded'].includes(status)) return this.style.green(status);
    if (['warning', 'no_records', 'processing', 'running'].includes(status)) {
      return this.style.yellow(status);
    }
    if (['error', 'failure', 'failed', 'timed_out'].includes(status)) return this.style.red(status);
    return status;
  }
}
