/**
 * How per-run params reach a tap script: each key becomes the environment variables
 * TAP_PARAM_<key> and DATRIS_TAP_PARAM_<key>, with the value as text (DESIGN section 4).
 */

import { stringifyRecords } from '../records/record-json.js';

const paramKey = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether a params key can name an environment variable; the HTTP layer answers 400 if not. */
export function isParamKey(key: string): boolean {
  return paramKey.test(key);
}

/** The first key that is not a valid param key, or undefined when all are. */
export function invalidParamKey(params: Record<string, unknown>): string | undefined {
  return Object.keys(params).find((key) => !isParamKey(key));
}

/**
 * A param value as the script sees it: strings as they are, numbers, BigInts and booleans as
 * their JSON text (`5`, `true`), null and undefined as an empty string, objects and arrays as
 * JSON so that `json.loads` gives them back.
 */
export function paramText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  // lossless-json writes BigInt and LosslessNumber values inside objects exactly.
  return stringifyRecords(value);
}

export class ParamKeyError extends Error {
  constructor(readonly key: string) {
    super(
      `param key '${key}' is not an identifier (letters, digits and _, not starting with a digit)`,
    );
    this.name = 'ParamKeyError';
  }
}

/** TAP_PARAM_* and DATRIS_TAP_PARAM_* variables for the params; throws on an invalid key. */
export function paramEnv(params: Record<string, unknown>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!isParamKey(key)) throw new ParamKeyError(key);
    const text = paramText(value);
    env[`TAP_PARAM_${key}`] = text;
    env[`DATRIS_TAP_PARAM_${key}`] = text;
  }
  return env;
}
