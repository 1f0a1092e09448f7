import type Database from 'better-sqlite3';
import type { FieldType } from '../pipelines/pipeline-schema.js';
import { stringifyRecords } from '../records/record-json.js';
import { quoteIdentifier } from './identifiers.js';

/**
 * How tapline types sit in SQLite. The declared column type names the tapline type first, so a
 * later load (or a person browsing the file) reads it back, and its second word picks SQLite's
 * storage affinity. Decimals, dates, timestamps and JSON need TEXT affinity: with the NUMERIC
 * affinity a bare `DECIMAL` would get, SQLite would turn "12345678901234567890.123456789" into
 * a double and lose digits. Booleans are 0/1 integers; 64-bit integers are bound as BigInt.
 */
const declaredTypes: Record<FieldType, string> = {
  string: 'TEXT',
  integer: 'INTEGER',
  number: 'REAL',
  decimal: 'DECIMAL TEXT',
  boolean: 'BOOLEAN INTEGER',
  date: 'DATE TEXT',
  timestamp: 'TIMESTAMP TEXT',
  json: 'JSON TEXT',
};

export function sqlColumnType(type: FieldType): string {
  return declaredTypes[type];
}

/** The tapline type of a column, including columns of tables tapline did not create. */
export function fieldTypeOfColumn(declared: string): FieldType {
  const upper = declared.trim().toUpperCase();
  const first = upper.split(/\s+/)[0] ?? '';
  const exact: Record<string, FieldType> = {
    TEXT: 'string',
    INTEGER: 'integer',
    REAL: 'number',
    DECIMAL: 'decimal',
    BOOLEAN: 'boolean',
    DATE: 'date',
    TIMESTAMP: 'timestamp',
    JSON: 'json',
  };
  const known = exact[first];
  if (known !== undefined) return known;
  // SQLite's own affinity rules, in its order.
  if (upper.includes('INT')) return 'integer';
  if (/CHAR|CLOB|TEXT/.test(upper)) return 'string';
  if (/REAL|FLOA|DOUB/.test(upper)) return 'number';
  return 'json';
}

/** The columns of `table` with their tapline types, or undefined when it does not exist. */
export function readTableColumns(
  db: Database.Database,
  table: string,
): Map<string, FieldType> | undefined {
  const rows = db.prepare(`PRAGMA table_info(${quoteIdentifier(table)})`).all() as {
    name: string;
    type: string;
  }[];
  if (rows.length === 0) return undefined;
  return new Map(rows.map((row) => [row.name.toLowerCase(), fieldTypeOfColumn(row.type)]));
}

/** A conformed value as SQLite stores it. */
export function toSqlValue(value: unknown, type: FieldType): unknown {
  if (value === null || value === undefined) return null;
  if (type === 'boolean') return value === true ? 1 : 0;
  if (type === 'json') return jsonText(value);
  return value;
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    // JSON.stringify refuses BigInt; the record writer keeps its exact digits.
    return stringifyRecords(value);
  }
}
