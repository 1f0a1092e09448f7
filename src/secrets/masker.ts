/** Shorter values would mask ordinary words and digits; the issue sets four as the floor. */
const minimumLength = 4;
const mask = '****';

/**
 * The forms a script may print a value in: as is, escaped inside a JSON or Python string,
 * URL-encoded, or base64 (with and without padding).
 */
function forms(value: string): string[] {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  const base64url = Buffer.from(value, 'utf8').toString('base64url');
  return [
    value,
    JSON.stringify(value).slice(1, -1),
    value.replace(/\\/g, '\\\\'),
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    base64,
    base64.replace(/=+$/, ''),
    base64url,
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Replaces every known secret value by `****` in text that leaves the runner: logs, errors,
 * explanations, answers, the server's own log lines.
 */
export class Masker {
  private readonly pattern: RegExp | null;

  constructor(values: Iterable<string>) {
    const all = new Set<string>();
    for (const value of values) {
      if (value.length < minimumLength) continue;
      for (const form of forms(value)) if (form.length >= minimumLength) all.add(form);
    }
    // Longest first, so a value that contains another is masked whole.
    const sorted = [...all].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = sorted.length === 0 ? null : new RegExp(sorted.join('|'), 'g');
  }

  mask(text: string): string;
  mask(text: string | null): string | null;
  mask(text: string | null): string | null {
    if (text === null || this.pattern === null) return text;
    return text.replace(this.pattern, mask);
  }

  /** Masks every string inside a JSON-like value (records of a test run, state). */
  maskDeep<T>(value: T): T {
    if (this.pattern === null) return value;
    return this.walk(value) as T;
  }

  private walk(value: unknown): unknown {
    if (typeof value === 'string') return this.mask(value);
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = this.walk(inner);
      return out;
    }
    return value;
  }
}

export const noSecrets = new Masker([]);
