import type { FieldType } from './pipeline-schema.js';

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/**
 * How a field without a declared type gets one.
 *
 * - The first batch that carries a key (up to 128 records) decides its type, from its non-null
 *   values: text is `string`, true/false `boolean`, objects and arrays `json`; a whole number is
 *   `integer` when it fits 64 bits and `decimal` (its exact digits as text) when it does not; any
 *   other number is `number`. Strings stay strings: guessing dates out of text would turn
 *   "2024-13-01" into a reject instead of a value.
 * - Values of one key that disagree widen to the narrowest type that holds them all:
 *   integer < number < decimal among numbers; any other mix is `string`, which every value
 *   converts to without loss (objects as JSON text).
 * - After that first batch, a later number that its inferred numeric type cannot hold widens the
 *   field instead of rejecting the record (`2.5` after a batch of `2`s makes it `number`); see
 *   `widenNumeric`. Any other misfit is rejected by the rule of coerce.ts.
 *
 * Declared fields never widen: a declared `integer` rejects `2.5`.
 */
export function inferType(value: unknown): FieldType | undefined {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'bigint':
      return value >= int64Min && value <= int64Max ? 'integer' : 'decimal';
    case 'number':
      // A whole double past 2^53 came from a float literal (1e300): integer literals that large
      // are read as BigInt.
      return Number.isSafeInteger(value) ? 'integer' : 'number';
    case 'object':
      return value === null ? undefined : 'json';
    default:
      return undefined;
  }
}

const numericRank: Partial<Record<FieldType, number>> = { integer: 0, number: 1, decimal: 2 };

/** The narrowest type that holds both, by the order above. */
export function widenType(known: FieldType | undefined, next: FieldType): FieldType {
  if (known === undefined || known === next) return next;
  const [a, b] = [numericRank[known], numericRank[next]];
  if (a !== undefined && b !== undefined) return a > b ? known : next;
  return 'string';
}

/**
 * The wider numeric type an inferred field takes for a later `value` that its type cannot hold,
 * or undefined when widening would not help (the value is not a number, or the field is not
 * numeric). Called only for values that did not fit, so a BigInt met by a `number` field is one
 * that a double would round: it takes `decimal`.
 */
export function widenNumeric(known: FieldType, value: unknown): FieldType | undefined {
  const rank = numericRank[known];
  const next = inferType(value);
  if (rank === undefined || next === undefined || numericRank[next] === undefined) return undefined;
  if (known === 'number' && typeof value === 'bigint') return 'decimal';
  const wider = widenType(known, next);
  return wider === known ? undefined : wider;
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
