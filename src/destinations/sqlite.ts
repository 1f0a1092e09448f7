import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { coerceValue, unfit, unfitReason } from '../pipelines/coerce.js';
import { taplineFileProblem } from '../pipelines/destination-paths.js';
import type { Destination, FieldType } from '../pipelines/pipeline-schema.js';
import { inferType } from '../pipelines/infer-schema.js';
import { transformedName } from '../pipelines/transform.js';
import { counted } from '../status/counted.js';
import type {
  DestinationLoader,
  FinishOutcome,
  LoadBatch,
  LoadContext,
  LoaderReject,
  OpenOutcome,
  WriteOutcome,
} from './destination.js';
import { ColumnNames, quoteIdentifier } from './identifiers.js';
import { readTableColumns, sqlColumnType, toSqlValue } from './sqlite-columns.js';
import { checkpointLater, checkpointSoon } from './warehouse-checkpoint.js';
import { lockWarehouse, tryLockWarehouse } from './warehouse-lock.js';
import { dataDirLayout } from '../config/data-dir-layout.js';

type SqliteDestination = Extract<Destination, { type: 'sqlite' }>;

/** Where each record key goes: its column's place in the insert and the column's type. */
interface KeyPlan {
  index: number;
  /** The column's type, as read back or created. */
  column: FieldType;
  /** The pipeline's type for the key when this plan was made; a widened field is planned again. */
  field: FieldType;
  /** The type values are checked against and stored as. */
  type: FieldType;
  /** The column's type differs from the pipeline's, so values pass the coerce rule again. */
  recoerce: boolean;
}

/** A key whose column does not exist and may not be added (schemaPolicy freeze). */
const frozenOut = Symbol('frozen out');

export const loadsTable = '_tapline_loads';

/**
 * Loads a job into a SQLite warehouse exactly once: the whole job is one write transaction,
 * and a row in `_tapline_loads` for (pipelineToken, table) is written in that same transaction.
 * A crash before COMMIT leaves nothing; a re-run after COMMIT finds the row and skips.
 */
export class SqliteLoader implements DestinationLoader {
  readonly processName = 'SqliteLoader';
  readonly transactional = true;
  readonly target: string;
  readonly lockKey: string;

  private readonly file: string;
  private readonly table: string;
  private db: Database.Database | undefined;
  private release: (() => void) | undefined;
  private columns: Map<string, FieldType> | undefined;
  private readonly names = new ColumnNames();
  private readonly plans = new Map<string, KeyPlan | typeof frozenOut>();
  private declared: Set<string> | undefined;
  private order: string[] = [];
  private insert: Database.Statement | undefined;
  private insertMany: Database.Statement | undefined;
  private rowsPerInsert = 1;
  /** Rows built but not yet inserted; always flushed before the table changes shape. */
  private pending: unknown[][] = [];
  private loaded = 0;

  constructor(
    private readonly destination: SqliteDestination,
    private readonly context: LoadContext,
  ) {
    this.file = destination.path
      ? path.resolve(context.dataDir, destination.path)
      : path.join(context.dataDir, dataDirLayout.warehouse);
    this.table = destination.table;
    this.lockKey = this.file;
    this.target =
      `table '${this.table}' (${destination.writeMode}) in ` +
      path.relative(context.dataDir, this.file);
  }

  async open(): Promise<OpenOutcome> {
    const refused = taplineFileProblem(this.file, this.context.dataDir);
    if (refused !== null) return { ok: false, message: refused };
    mkdirSync(path.dirname(this.file), { recursive: true });
    const { early } = this.context;
    if (early && !early.adopted) {
      this.release = tryLockWarehouse(this.file, () => early.giveWay());
      if (this.release === undefined) {
        early.giveWay();
        return { ok: false, message: `the warehouse ${this.file} is busy with another load` };
      }
    } else {
      this.release = await lockWarehouse(this.file, this.context.signal);
      // The job was stopped while it waited; load-job ends it as aborted, not failed.
      if (this.release === undefined) {
        return { ok: false, message: `stopped while waiting for the warehouse ${this.file}` };
      }
    }
    try {
      const db = new Database(this.file);
      this.db = db;
      db.pragma('journal_mode = WAL');
      // FULL: the job is reported loaded right after COMMIT, so the commit must survive power loss.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('cache_size = -8000');
      db.pragma('journal_size_limit = 67108864');
      db.pragma('wal_autocheckpoint = 0');
      // The log an earlier load left must be copied before this one writes, or it keeps growing
      // (warehouse-checkpoint.ts); the copy runs off the event loop, so only this load waits.
      await checkpointSoon(this.file);
      db.defaultSafeIntegers(true);
      db.exec('BEGIN IMMEDIATE');
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(loadsTable)} (pipeline_token TEXT NOT NULL, ` +
          'destination TEXT NOT NULL, table_name TEXT NOT NULL, rows INTEGER NOT NULL, ' +
          'loaded_at TEXT NOT NULL, PRIMARY KEY (pipeline_token, table_name))',
      );
      const marker = db
        .prepare(
          `SELECT rows, loaded_at AS loadedAt FROM ${quoteIdentifier(loadsTable)} ` +
            'WHERE pipeline_token = ? AND table_name = ?',
        )
        .get(this.context.pipelineToken, this.table.toLowerCase()) as
        { rows: bigint; loadedAt: string } | undefined;
      if (marker) {
        await this.abort();
        return {
          ok: true,
          alreadyLoaded: true,
          description:
            `already loaded ${counted(marker.rows, 'row')} into table '${this.table}' at ` +
            `${marker.loadedAt} (an earlier attempt of this job); nothing loaded again`,
        };
      }

      this.columns = readTableColumns(db, this.table);
      // Deleting inside the job's one transaction swaps the contents atomically, as a build-and-
      // rename would, while keeping the table's indexes and the views that read it.
      if (this.columns && this.destination.writeMode === 'replace') {
        db.exec(`DELETE FROM ${quoteIdentifier(this.table)}`);
      }
      if (this.columns) this.planExistingColumns();
      return { ok: true, alreadyLoaded: false };
    } catch (error) {
      await this.abort();
      return { ok: false, message: this.failure(error) };
    }
  }

  async write(batch: LoadBatch): Promise<WriteOutcome> {
    const rejected: LoaderReject[] = [];
    let written = 0;
    try {
      if (!this.columns) {
        const created = this.createTable(batch.fields);
        if (created !== null) return { ok: false, message: created };
      }
      if (!this.columns) {
        // Only records with every value null reach here: there is nothing to make a row of.
        const reason = 'record has no values';
        return { ok: true, written: 0, rejected: batch.records.map(() => ({ reason })) };
      }
      this.replanWidened(batch.fields);
      const keyIndexes = this.primaryKeyIndexes();

      for (const record of batch.records) {
        const values: unknown[] = new Array(this.order.length).fill(null);
        let problem: string | null = null;
        for (const key in record) {
          const value = record[key];
          if (value === null || value === undefined) continue;
          let plan = this.plans.get(key);
          if (plan === undefined) {
            const added = this.addKey(key, batch.fields.get(key) ?? inferType(value)!);
            if (typeof added === 'string') return { ok: false, message: added };
            plan = added;
            while (values.length < this.order.length) values.push(null);
          }
          if (plan === frozenOut) {
            problem = `field '${key}' has no column in table '${this.table}' (schemaPolicy freeze)`;
            break;
          }
          const fitted = plan.recoerce ? coerceValue(value, plan.type) : value;
          if (fitted === unfit) {
            problem = `${unfitReason(key, value, plan.type)} (column type of '${this.table}')`;
            break;
          }
          values[plan.index] = toSqlValue(fitted, plan.type);
        }
        if (problem === null && keyIndexes?.some((index) => index < 0 || values[index] === null)) {
          problem = `primary key (${this.context.primaryKey.join(', ')}) is missing or null`;
        }
        if (problem !== null) {
          rejected.push({ reason: problem });
          continue;
        }
        this.pending.push(values);
        if (this.pending.length === this.rowsPerInsert) this.flush();
        written += 1;
      }
      this.flush();
      this.loaded += written;
      return { ok: true, written, rejected };
    } catch (error) {
      return { ok: false, message: this.failure(error) };
    }
  }

  /**
   * Inserts the rows waiting in `pending`: full groups through the multi-row statement (a
   * third fewer native calls per row than one statement per row), the rest one by one.
   */
  private flush(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    this.pending = [];
    let next = 0;
    if (rows.length === this.rowsPerInsert && this.insertMany) {
      const width = this.order.length;
      const flat: unknown[] = new Array(rows.length * width);
      for (let row = 0; row < rows.length; row += 1) {
        const values = rows[row]!;
        for (let column = 0; column < width; column += 1) {
          flat[row * width + column] = values[column] ?? null;
        }
      }
      this.insertMany.run(flat);
      next = rows.length;
    }
    for (; next < rows.length; next += 1) this.insert!.run(rows[next]!);
  }

  async finish(): Promise<FinishOutcome> {
    const db = this.db!;
    try {
      if (!this.columns) {
        const created = this.createTable(this.declaredFields());
        if (created !== null) return { ok: false, message: created };
      }
      db.prepare(
        `INSERT INTO ${quoteIdentifier(loadsTable)} ` +
          '(pipeline_token, destination, table_name, rows, loaded_at) VALUES (?, ?, ?, ?, ?)',
      ).run(
        this.context.pipelineToken,
        'sqlite',
        this.table.toLowerCase(),
        this.loaded,
        new Date().toISOString(),
      );
      db.exec('COMMIT');
      checkpointLater(this.file);
      return {
        ok: true,
        loaded: this.loaded,
        description: `loaded ${counted(this.loaded, 'row')} into ${this.target}`,
      };
    } catch (error) {
      return { ok: false, message: this.failure(error) };
    } finally {
      await this.abort();
    }
  }

  async abort(): Promise<void> {
    try {
      if (this.db?.inTransaction) this.db.exec('ROLLBACK');
      this.db?.close();
    } catch {
      // Closing a connection whose transaction already ended cannot lose anything.
    }
    this.db = undefined;
    this.release?.();
  }

  private planExistingColumns(): void {
    this.order = [...this.columns!.keys()];
    this.prepareInsert();
  }

  /** Creates the table from the fields known at the first batch; null when it worked. */
  private createTable(fields: ReadonlyMap<string, FieldType>): string | null {
    const definitions: string[] = [];
    const columns = new Map<string, FieldType>();
    for (const [key, type] of this.withPrimaryKey(fields)) {
      const resolved = this.names.resolve(key);
      if ('collision' in resolved) return resolved.collision;
      columns.set(resolved.column, type);
      definitions.push(`${quoteIdentifier(resolved.column)} ${sqlColumnType(type)}`);
    }
    if (definitions.length === 0) return null;

    this.db!.exec(`CREATE TABLE ${quoteIdentifier(this.table)} (${definitions.join(', ')})`);
    this.columns = columns;
    this.planExistingColumns();
    return null;
  }

  /** Merge needs its key columns even if the first batch only had nulls there. */
  private withPrimaryKey(fields: ReadonlyMap<string, FieldType>): Map<string, FieldType> {
    const all = new Map(fields);
    if (this.destination.writeMode === 'merge') {
      for (const key of this.context.primaryKey) if (!all.has(key)) all.set(key, 'string');
    }
    return all;
  }

  /** Plans a key met for the first time; a string is a failure of the whole load. */
  private addKey(key: string, type: FieldType): KeyPlan | typeof frozenOut | string {
    const resolved = this.names.resolve(key);
    if ('collision' in resolved) return resolved.collision;
    const columns = this.columns!;

    let columnType = columns.get(resolved.column);
    if (columnType === undefined) {
      if (this.context.pipeline.schemaPolicy === 'freeze') {
        this.plans.set(key, frozenOut);
        return frozenOut;
      }
      this.flush();
      this.db!.exec(
        `ALTER TABLE ${quoteIdentifier(this.table)} ` +
          `ADD COLUMN ${quoteIdentifier(resolved.column)} ${sqlColumnType(type)}`,
      );
      columns.set(resolved.column, type);
      columnType = type;
      this.order.push(resolved.column);
      this.prepareInsert();
    }
    const plan = this.keyPlan(key, this.order.indexOf(resolved.column), columnType, type);
    this.plans.set(key, plan);
    return plan;
  }

  /**
   * An INTEGER column keeps 2.5 as a REAL (SQLite's affinity converts only what it can hold
   * exactly), so a field inferred as `number` loads into it as it is: the column was inferred
   * from an earlier batch or job whose values happened to be whole. A declared field, or any
   * field under freeze, is held to the column's type.
   */
  private keyPlan(key: string, index: number, column: FieldType, field: FieldType): KeyPlan {
    if (column === 'integer' && field === 'number' && this.mayWiden(key)) {
      return { index, column, field, type: 'number', recoerce: false };
    }
    return { index, column, field, type: column, recoerce: column !== field };
  }

  /** Plans keys again whose pipeline type widened since they were planned (infer-schema.ts). */
  private replanWidened(fields: ReadonlyMap<string, FieldType>): void {
    for (const [key, plan] of this.plans) {
      if (plan === frozenOut) continue;
      const field = fields.get(key);
      if (field !== undefined && field !== plan.field) {
        this.plans.set(key, this.keyPlan(key, plan.index, plan.column, field));
      }
    }
  }

  private mayWiden(key: string): boolean {
    if (this.context.pipeline.schemaPolicy !== 'evolve') return false;
    this.declared ??= new Set(this.declaredFields().keys());
    return !this.declared.has(key);
  }

  private primaryKeyIndexes(): number[] | undefined {
    if (this.destination.writeMode !== 'merge') return undefined;
    return this.context.primaryKey.map((key) => {
      const plan = this.plans.get(key) ?? this.addKey(key, 'string');
      return typeof plan === 'object' ? plan.index : -1;
    });
  }

  private prepareInsert(): void {
    const table = quoteIdentifier(this.table);
    const columns = this.order.map(quoteIdentifier);
    const row = `(${columns.map(() => '?').join(', ')})`;
    let conflict = '';

    if (this.destination.writeMode === 'merge') {
      const keyColumns = this.context.primaryKey.map((key) => this.names.resolve(key));
      const keys = keyColumns.map((resolved) => ('column' in resolved ? resolved.column : ''));
      const index = quoteIdentifier(`${this.table}__tapline_key__${keys.join('__')}`);
      this.db!.exec(
        `CREATE UNIQUE INDEX IF NOT EXISTS ${index} ON ${table} ` +
          `(${keys.map(quoteIdentifier).join(', ')})`,
      );
      const updates = this.order
        .filter((column) => !keys.includes(column))
        .map((column) => `${quoteIdentifier(column)} = excluded.${quoteIdentifier(column)}`);
      conflict =
        ` ON CONFLICT (${keys.map(quoteIdentifier).join(', ')}) DO ` +
        (updates.length > 0 ? `UPDATE SET ${updates.join(', ')}` : 'NOTHING');
    }

    const into = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
    this.insert = this.db!.prepare(`${into}${row}${conflict}`);
    // SQLite binds at most 32766 parameters per statement.
    this.rowsPerInsert = Math.max(1, Math.min(64, Math.floor(32_766 / columns.length)));
    this.insertMany =
      this.rowsPerInsert > 1
        ? this.db!.prepare(`${into}${Array(this.rowsPerInsert).fill(row).join(', ')}${conflict}`)
        : undefined;
  }

  /** The declared schema's columns, for a job with no records into a table not yet made. */
  private declaredFields(): Map<string, FieldType> {
    const fields = new Map<string, FieldType>();
    for (const field of this.context.pipeline.schema ?? []) {
      const name = transformedName(this.context.pipeline.transform, field.name);
      if (name !== undefined) fields.set(name, field.type);
    }
    return fields;
  }

  private failure(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    if (/SQLITE_BUSY|database is locked/i.test(message)) {
      return `the warehouse ${this.file} is locked by another process; the load can be retried`;
    }
    if (/UNIQUE constraint failed/i.test(message) && this.destination.writeMode === 'merge') {
      return (
        `cannot merge into table '${this.table}' on (${this.context.primaryKey.join(', ')}): ` +
        `its existing rows repeat that key (${message})`
      );
    }
    return `table '${this.table}': ${message}`;
  }
}
