import { cliError } from './cli-errors.js';

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `--param key=value` gives the string `value`; `--param key:=<json>` gives the parsed JSON
 * value (a number, boolean, null, object or array), as the HTTP API's `params` can carry.
 */
export function parseParam(text: string): [string, unknown] {
  const equals = text.indexOf('=');
  if (equals <= 0) {
    throw cliError(
      'usage',
      `bad --param '${text}': write key=value, or key:=<json> for a JSON value ` +
        `(e.g. --param since=2015-01-01 --param limit:=5)`,
    );
  }
  const raw = text.slice(0, equals);
  const json = raw.endsWith(':');
  const key = json ? raw.slice(0, -1) : raw;
  if (!identifier.test(key)) {
    throw cliError(
      'usage',
      `bad --param '${text}': the key '${key}' must be an identifier ` +
        '(letters, digits and _, not starting with a digit)',
    );
  }
  const value = text.slice(equals + 1);
  if (!json) return [key, value];
  try {
    return [key, JSON.parse(value)];
  } catch {
    throw cliError('usage', `bad --param '${text}': '${value}' after := is not JSON`);
  }
}

/** Commander's collector for a repeatable `--param`, checking each as it comes. */
export function collectParam(
  text: string,
  previous: Record<string, unknown> = {},
): Record<string, unknown> {
  const [key, value] = parseParam(text);
  return { ...previous, [key]: value };
}

export function parseCount(option: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw cliError('usage', `${option} must be a whole number of 0 or more, not '${text}'`);
  }
  return value;
}
