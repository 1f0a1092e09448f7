import { stringifyRecords } from '../records/record-json.js';
import type { FieldType } from './pipeline-schema.js';

/**
 * The one rule for a value that does not match its field's type, shared by every destination
 * and by the quality check `type`: convert it when the conversion loses nothing, otherwise the
 * record is rejected with a reason (counted like a quality reject). null and a missing key are
 * null for every type; `required` is a quality rule, not a type.
 *
 * | type      | kept as                    | converted without loss from                       |
 * |-----------|----------------------------|---------------------------------------------------|
 * | string    | string                     | number, bigint, boolean (as text); object, array  |
 * |           |                            | (as JSON text)                                    |
 * | integer   | number or bigint (64-bit)  | integer text "-42"; a whole double within 64 bits |
 * | number    | number (double)            | bigint or numeric text with at most 15 significant|
 * |           |                            | digits (the most a double always keeps)           |
 * | decimal   | string of the exact digits | number, bigint, numeric text (kept as written)    |
 * | boolean   | boolean                    | "true"/"false" (any case), 0/1, "0"/"1"           |
 * | date      | "YYYY-MM-DD" string        | nothing else: a timestamp would lose its time     |
 * | timestamp | ISO 8601 string as written | a date "YYYY-MM-DD"                               |
 * | json      | the value itself           | anything (stored as JSON text in SQL)             |
 *
 * Timestamps are kept as written rather than normalised to UTC milliseconds because Python
 * writes microseconds and offsets that a JavaScript Date would drop.
 */

/** Returned by `coerceValue` when the value does not fit; `unfitReason` says why. */
export const unfit: unique symbol = Symbol('unfit');

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const integerText = /^-?(0|[1-9]\d*)$/;
const numericText = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const decimalText = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const dateText = /^(\d{4})-(\d{2})-(\d{2})$/;
const timestampText =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

export function coerceValue(value: unknown, type: FieldType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'string':
      return toText(value);
    case 'integer':
      return toInteger(value);
    case 'number':
      return toNumber(value);
    case 'decimal':
      return toDecimal(value);
    case 'boolean':
      return toBoolean(value);
    case 'date':
      return typeof value === 'string' && isDate(value) ? value : unfit;
    case 'timestamp':
      return typeof value === 'string' && isTimestamp(value) ? value : unfit;
    case 'json':
      return value;
  }
}

/** Whether `value` fits `type` under the rule (the quality check `type`). */
export function fitsType(value: unknown, type: FieldType): boolean {
  return coerceValue(value, type) !== unfit;
}

/** Why `value` does not fit `type`, with a short excerpt of the value. */
export function unfitReason(field: string, value: unknown, type: FieldType): string {
  const extra =
    type === 'number' && typeof value === 'string'
      ? ' (more than 15 significant digits would lose precision; declare it decimal)'
      : type === 'integer' && typeof value === 'bigint'
        ? ' (outside the 64-bit range)'
        : '';
  return `field '${field}': ${excerpt(value)} is not ${typeWithArticle(type)}${extra}`;
}

/** "an integer", "a date": the type as a message names it. */
export function typeWithArticle(type: FieldType): string {
  return `${type === 'integer' ? 'an' : 'a'} ${type}`;
}

/** A value shown in a message: JSON text, cut to 60 characters. */
export function excerpt(value: unknown): string {
  const text = value === undefined ? 'missing' : stringifyRecords(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function toText(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'object':
      return stringifyRecords(value);
    default:
      return unfit;
  }
}

function toInteger(value: unknown): unknown {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value)) return value;
    if (!Number.isInteger(value)) return unfit;
    return inInt64(BigInt(value));
  }
  if (typeof value === 'bigint') return inInt64(value);
  if (typeof value === 'string' && integerText.test(value)) {
    const parsed = Number(value);
    return Number.isSafeInteger(parsed) ? parsed : inInt64(BigInt(value));
  }
  return unfit;
}

function inInt64(value: bigint): unknown {
  return value >= int64Min && value <= int64Max ? value : unfit;
}

function toNumber(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : unfit;
  if (typeof value === 'bigint') {
    const asNumber = Number(value);
    return BigInt(asNumber) === value ? asNumber : unfit;
  }
  if (typeof value === 'string' && numericText.test(value)) {
    const digits = value
      .replace(/[eE].*$/, '')
      .replace(/[-.]/g, '')
      .replace(/^0+/, '');
    const parsed = Number(value);
    return digits.length <= 15 && Number.isFinite(parsed) ? parsed : unfit;
  }
  return unfit;
}

function toDecimal(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : unfit;
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'string' && decimalText.test(value)) return value;
  return unfit;
}

function toBoolean(value: unknown): unknown {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (value === 1n || value === 0n) return value === 1n;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'true' || value === '1') return true;
    if (lower === 'false' || value === '0') return false;
  }
  return unfit;
}

function isDate(text: string): boolean {
  const match = dateText.exec(text);
  return match !== null && validDay(match[1], match[2], match[3]);
}

function isTimestamp(text: string): boolean {
  const match = timestampText.exec(text);
  if (match === null || !validDay(match[1], match[2], match[3])) return false;
  const [hour, minute, second] = [match[4], match[5], match[6]].map((part) => Number(part ?? 0));
  return hour! <= 23 && minute! <= 59 && second! <= 60;
}

function validDay(year?: string, month?: string, day?: string): boolean {
  const [y, m, d] = [Number(year), Number(month), Number(day)];
  if (m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}
