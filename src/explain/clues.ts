/**
 * Reads the clues the rules need (exception, script frame, HTTP status, URL, host) out of the
 * text Python, requests, urllib, httpx and tapline's own loaders print. Patterns are loose on
 * purpose: a clue read from a slightly different message beats no clue at all.
 */

export interface PythonException {
  /** As Python prints it, possibly dotted: `KeyError`, `urllib.error.HTTPError`. */
  type: string;
  message: string;
}

export interface ScriptFrame {
  line: number;
  functionName: string;
  /** The source line Python printed under the frame, when it printed one. */
  code: string | null;
}

export interface HttpFailure {
  status: number;
  reason: string | null;
  url: string | null;
}

const exceptionPattern =
  /^([A-Za-z_][\w.]*(?:Error|Exception|Timeout|Warning|Exit|Interrupt|Iteration)): ?(.*)$/m;

/** The exception the runner put first in `error`, or the last one printed in the logs. */
export function pythonException(text: string): PythonException | null {
  const found = exceptionPattern.exec(text);
  if (!found) return null;
  return { type: found[1] ?? '', message: (found[2] ?? '').trim() };
}

/** The bare class name: `urllib.error.HTTPError` -> `HTTPError`. */
export function shortTypeName(type: string): string {
  return type.slice(type.lastIndexOf('.') + 1);
}

const framePattern = /File "(?:[^"]*[\\/])?tap\.py", line (\d+), in ([\w<>]+)\n(?: {4}(.*)\n?)?/g;

/** The innermost frame in the user's script (tap.py), where the fix usually goes. */
export function scriptFrame(text: string): ScriptFrame | null {
  let last: ScriptFrame | null = null;
  for (const found of text.matchAll(framePattern)) {
    last = {
      line: Number(found[1]),
      functionName: found[2] ?? '',
      code: found[3]?.trim() || null,
    };
  }
  return last;
}

const httpPatterns: { pattern: RegExp; status: number; reason?: number; url?: number }[] = [
  // requests: "404 Client Error: Not Found for url: https://..."
  {
    pattern: /\b(\d{3}) (?:Client|Server) Error: (.*?) for url: (\S+)/,
    status: 1,
    reason: 2,
    url: 3,
  },
  // httpx: "Client error '404 Not Found' for url 'https://...'"
  {
    pattern: /(?:Client|Server) error '(\d{3}) ([^']*)' for url '([^']+)'/,
    status: 1,
    reason: 2,
    url: 3,
  },
  // urllib: "HTTP Error 404: Not Found"
  { pattern: /HTTP Error (\d{3}): ?([^\n]*)/, status: 1, reason: 2 },
  // print(resp.status_code), logging, tapline's loaders: "status 401", "HTTP 503", "status_code=429"
  {
    pattern:
      /\b(?:HTTP(?:\/[\d.]+)?|status(?:[ _]?code)?|response code|responded(?: with)?)\s*[:=]?\s*(\d{3})\b/i,
    status: 1,
  },
];

/** The first HTTP failure (400-599) mentioned in the text. */
export function httpFailure(text: string): HttpFailure | null {
  for (const { pattern, status, reason, url } of httpPatterns) {
    const found = pattern.exec(text);
    if (!found) continue;
    const code = Number(found[status]);
    if (code < 400 || code > 599) continue;
    return {
      status: code,
      reason: reason === undefined ? null : found[reason]?.trim() || null,
      url: url === undefined ? null : (found[url] ?? null),
    };
  }
  return null;
}

const urlPattern = /\bhttps?:\/\/[^\s'"<>()\\]+/g;
const hostFieldPattern = /host='([^']+)', port=(\d+)/;

/** URLs in order of appearance, without their query strings (those often carry keys). */
export function urlsIn(text: string): string[] {
  return [...text.matchAll(urlPattern)].map((found) => withoutQuery(found[0]));
}

export function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return (cut < 0 ? url : url.slice(0, cut)).replace(/[.,;:]+$/, '');
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

/**
 * The host a network failure was about. requests names it in the error; urllib does not, so
 * fall back to a URL in the logs, then in the params (a base URL passed per run), then in the
 * script. Several different hosts in the script are named together.
 */
export function likelyHost(places: {
  error: string;
  logs: string;
  params: string;
  script: string;
}) {
  const field = hostFieldPattern.exec(places.error) ?? hostFieldPattern.exec(places.logs);
  if (field) return `${field[1]}:${field[2]}`;

  for (const text of [places.error, places.logs, places.params]) {
    const host = urlsIn(text)
      .map(hostOf)
      .find((found) => found !== null);
    if (host) return host;
  }

  const scriptHosts = [...new Set(urlsIn(places.script).map(hostOf))].filter(
    (host): host is string => host !== null,
  );
  return scriptHosts.length > 0 ? scriptHosts.slice(0, 3).join(' or ') : null;
}

/** The first URL the text names, for a 404; null when it names none. */
export function likelyUrl(...texts: string[]): string | null {
  for (const text of texts) {
    const url = urlsIn(text)[0];
    if (url) return url;
  }
  return null;
}

/** A line cut to a readable length for quoting inside a sentence. */
export function quote(text: string, max = 160): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// "UserWarning", "DeprecationWarning", "ERROR:root:", "ValueError", "Traceback": the words
// Python and its logging module print. Plurals ("0 errors") are deliberately not matched.
// No leading \w*: on a long run of letters it made the match quadratic in the line's length.
const warningLinePattern = /(?:warning|error)\b|\bwarn\b|\bdeprecat|\btraceback\b|\bexception\b/i;

/** Lines of the logs that hold a warning, an error, a deprecation or a traceback. */
export function warningLines(logs: string): string[] {
  return logs.split('\n').filter((line) => warningLinePattern.test(line));
}

const windowKeyPattern =
  /^(since|until|from|to|start|end|begin|after|before|day|date|(start|end|from|to)_?(date|time)|date_?(from|to))$/i;
export const datePattern = /^\d{4}-\d{2}-\d{2}/;

/** The params that look like a date window: a window-like name (since, until, …) or an ISO date. */
export function dateWindow(params: Record<string, unknown>): [string, unknown][] {
  return Object.entries(params).filter(
    ([key, value]) =>
      windowKeyPattern.test(key) || (typeof value === 'string' && datePattern.test(value)),
  );
}

/** True when Python printed a traceback into the text. */
export function hasTraceback(text: string): boolean {
  return text.includes('Traceback (most recent call last)');
}

/** The numbers of the script's lines (comments aside) that match the pattern. */
export function scriptLines(script: string, pattern: RegExp): number[] {
  const lines = script.split('\n');
  const numbers: number[] = [];
  lines.forEach((line, index) => {
    if (pattern.test(line.replace(/#.*$/, ''))) numbers.push(index + 1);
  });
  return numbers;
}

const environmentReadPattern =
  /os\.(?:environ\[\s*|environ\.get\(\s*|getenv\(\s*)['"]([A-Za-z_]\w*)['"]/g;

/** The environment variables the script reads by name, params and tapline's own left out. */
export function environmentNames(script: string): string[] {
  const names = [...script.matchAll(environmentReadPattern)].map((found) => found[1] ?? '');
  return [...new Set(names)].filter((name) => !/^(?:DATRIS_)?TAP_/.test(name));
}
