import type { FieldType } from './pipeline-schema.js';

/**
 * The type a field gets when no schema declares it, from the first non-null values the pipeline
 * sees for it (the first batch that carries the key). Strings stay strings: guessing dates out
 * of text would turn "2024-13-01" into a reject instead of a value.
 */
export function inferType(value: unknown): FieldType | undefined {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return 'integer';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'object':
      return value === null ? undefined : 'json';
    default:
      return undefined;
  }
}

/**
 * The narrowest type that holds both: integer with number is number; any other mix is string,
 * which every value converts to without loss (objects as JSON text).
 */
export function widenType(known: FieldType | undefined, next: FieldType): FieldType {
  if (known === undefined || known === next) return next;
  const pair = new Set([known, next]);
  if (pair.has('integer') && pair.has('number')) return 'number';
  return 'string';
}

/** The inferred types of every non-null key in `records`, in first-seen order. */
export function inferFields(
  records: readonly Record<string, unknown>[],
  skip: (key: string) => boolean,
): Map<string, FieldType> {
  const found = new Map<string, FieldType>();
  for (const record of records) {
    for (const key in record) {
      if (skip(key)) continue;
      const type = inferType(record[key]);
      if (type !== undefined) found.set(key, widenType(found.get(key), type));
    }
  }
  return found;
}
