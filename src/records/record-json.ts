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
/** Sixteen digits in a row is the shortest number text that can exceed 2^53. */
const maybeLargeInteger = /\d{16}/;

function parseNumber(text: string): number | bigint {
  if (isSafeNumber(text) || !integerLiteral.test(text)) return Number(text);
  return BigInt(text);
}

export function parseRecordJson(text: string): unknown {
  // JSON.parse is several times faster; only text that could hold a large integer pays.
  if (!maybeLargeInteger.test(text)) return JSON.parse(text);
  return parseLossless(text, null, parseNumber);
}

export function stringifyRecords(value: unknown): string {
  return stringifyLossless(value) ?? 'null';
}
