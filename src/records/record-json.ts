import {
  isSafeNumber,
  parse as parseLossless,
  stringify as stringifyLossless,
} from 'lossless-json';

/**
 * Records are JSON whose integers may exceed 2^53 (ids from Snowflake, Twitter, Postgres
 * bigserial). JavaScript numbers would round them, so integer literals too big for a double
 * become BigInt, and every place that writes records back out uses `stringifyRecords`.
 * Floats are parsed as doubles: Python writes the shortest text that round-trips, so a
 * double reads back the same value Python had.
 */
const integerLiteral = /^-?\d+$/;

function parseNumber(text: string): number | bigint {
  if (isSafeNumber(text) || !integerLiteral.test(text)) return Number(text);
  return BigInt(text);
}

export function parseRecordJson(text: string): unknown {
  // JSON.parse is several times faster than an exact parser. Any integer literal past 2^53
  // comes back as a double past 2^53, so only text that produced one is read again, exactly.
  const parsed: unknown = JSON.parse(text);
  return holdsUnsafeNumber(parsed) ? parseLossless(text, null, parseNumber) : parsed;
}

function holdsUnsafeNumber(value: unknown): boolean {
  if (typeof value === 'number') {
    return value > Number.MAX_SAFE_INTEGER || value < -Number.MAX_SAFE_INTEGER;
  }
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (holdsUnsafeNumber(item)) return true;
    return false;
  }
  for (const key in value) {
    if (holdsUnsafeNumber((value as Record<string, unknown>)[key])) return true;
  }
  return false;
}

export function stringifyRecords(value: unknown): string {
  return stringifyLossless(value) ?? 'null';
}
