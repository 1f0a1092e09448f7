import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { taplineFileProblem } from '../pipelines/destination-paths.js';
import type { Destination } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
import { counted } from '../status/counted.js';
import { csvRow, padCsvRows } from './csv.js';
import type {
  DestinationLoader,
  FinishOutcome,
  LoadBatch,
  LoadContext,
  OpenOutcome,
  WriteOutcome,
} from './destination.js';

type FileDestination = Extract<Destination, { type: 'file' }>;

/**
 * Writes a job to one file in a folder: `<pipelineToken>.<ext>` (append: a file per job) or
 * `<pipeline>.<ext>` (replace: one current file). The file is written under a hidden temporary
 * name, synced, then renamed, so a reader sees the whole job or nothing; a re-run of a job whose
 * file exists (append) is skipped, and a re-run of a replace rewrites the same content.
 */
export class FileLoader implements DestinationLoader {
  readonly processName = 'FileLoader';
  readonly transactional = true;
  readonly target: string;

  private readonly folder: string;
  private readonly finalPath: string;
  private readonly tempPath: string;
  private handle: FileHandle | undefined;
  private loaded = 0;
  /** CSV: the header written so far, and where rows began to carry more columns. */
  private header: string[] | undefined;
  private headerWritten = false;
  private readonly widths: { fromRow: number; columns: number }[] = [];

  constructor(
    private readonly destination: FileDestination,
    private readonly context: LoadContext,
  ) {
    this.folder = path.resolve(context.dataDir, destination.path);
    const stem =
      destination.writeMode === 'replace' ? context.pipeline.name : context.pipelineToken;
    const name = `${stem.replace(/[^A-Za-z0-9_.-]/g, '_')}.${destination.format}`;
    this.finalPath = path.join(this.folder, name);
    this.tempPath = path.join(this.folder, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
    this.target = `${this.finalPath} (${destination.format}, ${destination.writeMode})`;
  }

  async open(): Promise<OpenOutcome> {
    const refused = taplineFileProblem(this.finalPath, this.context.dataDir);
    if (refused !== null) return { ok: false, message: refused };
    try {
      await mkdir(this.folder, { recursive: true });
      if (this.destination.writeMode === 'append' && existsSync(this.finalPath)) {
        return {
          ok: true,
          alreadyLoaded: true,
          description: `${this.finalPath} already holds this job (an earlier attempt); kept as is`,
        };
      }
      this.handle = await open(this.tempPath, 'w');
      return { ok: true, alreadyLoaded: false };
    } catch (error) {
      await this.abort();
      return { ok: false, message: `cannot write in ${this.folder}: ${(error as Error).message}` };
    }
  }

  async write(batch: LoadBatch): Promise<WriteOutcome> {
    try {
      const text =
        this.destination.format === 'jsonl' ? jsonLines(batch.records) : this.csvText(batch);
      if (text !== '') await this.handle!.write(text);
      this.loaded += batch.records.length;
      return { ok: true, written: batch.records.length, rejected: [] };
    } catch (error) {
      return { ok: false, message: `cannot write ${this.tempPath}: ${(error as Error).message}` };
    }
  }

  async finish(): Promise<FinishOutcome> {
    try {
      if (this.destination.format === 'csv') await this.completeCsv();
      await this.handle!.sync();
      await this.handle!.close();
      this.handle = undefined;
      await rename(this.tempPath, this.finalPath);
      await syncFolder(this.folder);
      return {
        ok: true,
        loaded: this.loaded,
        description: `wrote ${counted(this.loaded, 'record')} to ${this.finalPath}`,
      };
    } catch (error) {
      await this.abort();
      return { ok: false, message: `cannot write ${this.finalPath}: ${(error as Error).message}` };
    }
  }

  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }

  /**
   * CSV needs its header first, but an evolving job can bring new keys after rows are written.
   * New columns go at the end; `completeCsv` pads the earlier, shorter rows once at the end.
   */
  private csvText(batch: LoadBatch): string {
    const header = (this.header ??= []);
    const known = new Set(header);
    const before = header.length;
    for (const key of batch.fields.keys()) if (!known.has(key)) header.push(key);
    for (const record of batch.records) {
      for (const key in record) {
        if (!known.has(key) && !header.includes(key)) header.push(key);
      }
    }

    let text = '';
    if (!this.headerWritten) {
      this.headerWritten = true;
      text = csvRow(header);
      this.widths.push({ fromRow: 0, columns: header.length });
    } else if (header.length > before) {
      this.widths.push({ fromRow: this.loaded, columns: header.length });
    }
    for (const record of batch.records) text += csvRow(header.map((key) => record[key]));
    return text;
  }

  private async completeCsv(): Promise<void> {
    if (this.header === undefined) {
      await this.handle!.write(csvRow(this.fieldsOfEmptyJob()));
      return;
    }
    if (this.widths.length <= 1) return;

    // Rewrite once, with the final header and every row padded to its width.
    await this.handle!.close();
    const padded = `${this.tempPath}.padded`;
    const out = await open(padded, 'w');
    try {
      await out.write(csvRow(this.header));
      const source = createReadStream(this.tempPath);
      await padCsvRows(source, this.widths, this.header.length, (chunk) => out.write(chunk));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(padded, this.tempPath);
    this.handle = await open(this.tempPath, 'r+');
  }

  private fieldsOfEmptyJob(): string[] {
    return (this.context.pipeline.schema ?? []).map(
      (field) => this.context.pipeline.transform?.rename[field.name] ?? field.name,
    );
  }
}

function jsonLines(records: readonly Record<string, unknown>[]): string {
  let text = '';
  for (const record of records) text += `${jsonLine(record)}\n`;
  return text;
}

function jsonLine(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    // JSON.stringify refuses BigInt; the record writer keeps its exact digits.
    return stringifyRecords(record);
  }
}

/** A rename is durable only once the folder's entry is synced too. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}
