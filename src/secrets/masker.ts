/** Shorter values would mask ordinary words and digits; the issue sets four as the floor. */
const minimumLength = 4;
const mask = '****';

/**
 * tapline's own API keys (auth/key-service.ts makes them): only their hashes are stored, so
 * they are masked by their shape, wherever a script or an error happens to print one.
 */
const apiKeyPattern = 'tl_[A-Za-z0-9_-]{43}';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The value URL-encoded in any of the ways libraries do it: each character as itself or as
 * its percent-escaped UTF-8 bytes, hex digits in either case, a space also as `+`. This one
 * pattern covers encodeURIComponent, Python's quote and quote_plus, and the plain value.
 */
function urlEncodedPattern(value: string): string {
  let pattern = '';
  for (const character of value) {
    const escaped = [...Buffer.from(character, 'utf8')]
      .map((byte) => '%' + byte.toString(16).toUpperCase().padStart(2, '0'))
      .join('')
      .replace(/[A-F]/g, (digit) => `[${digit}${digit.toLowerCase()}]`);
    const forms = [escapeRegExp(character), escaped, ...(character === ' ' ? ['\\+'] : [])];
    pattern += `(?:${forms.join('|')})`;
  }
  return pattern;
}

/**
 * The base64 characters that the value alone decides, at each of the three offsets it may
 * sit at inside a longer encoded text (`base64("user:" + password)`, the Basic auth header).
 * Characters that mix the value's bits with its neighbours' are left out.
 */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const cores: string[] = [];
  for (const offset of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes, Buffer.alloc(2)]).toString(
      'base64',
    );
    const firstBit = offset * 8;
    const endBit = (offset + bytes.length) * 8;
    const first = Math.ceil(firstBit / 6);
    const end = Math.floor(endBit / 6);
    const core = encoded.slice(first, end);
    if (core.length >= minimumLength) {
      cores.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return cores;
}

/**
 * The forms a script may print a value in, as regular-expression sources: as is or URL-encoded,
 * escaped inside a JSON or Python string, or base64 (whole, or inside a longer encoded text).
 */
function patternsOf(value: string): { source: string; length: number }[] {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  const literals = [
    JSON.stringify(value).slice(1, -1),
    value.replace(/\\/g, '\\\\'),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(value, 'utf8').toString('base64url'),
    ...base64Cores(value),
  ];
  return [
    { source: urlEncodedPattern(value), length: value.length },
    ...literals
      .filter((literal) => literal.length >= minimumLength)
      .map((literal) => ({ source: escapeRegExp(literal), length: literal.length })),
  ];
}

/**
 * Replaces every known secret value by `****` in text that leaves the runner: logs, errors,
 * explanations, answers, the server's own log lines. A masker only learns values, never
 * forgets one: a script may still hold and print a value that has since been replaced.
 */
export class Masker {
  private readonly patterns = new Map<string, number>();
  private pattern = new RegExp(apiKeyPattern, 'g');

  constructor(values: Iterable<string> = []) {
    this.add(values);
  }

  /** Masks these values too from now on. */
  add(values: Iterable<string>): void {
    const before = this.patterns.size;
    for (const value of values) {
      if (value.length < minimumLength) continue;
      for (const { source, length } of patternsOf(value)) this.patterns.set(source, length);
    }
    if (this.patterns.size === before) return;
    // Longest first, so a value that contains another is masked whole.
    const sorted = [...this.patterns].sort((a, b) => b[1] - a[1]).map(([source]) => source);
    this.pattern = new RegExp([...sorted, apiKeyPattern].join('|'), 'g');
  }

  mask(text: string): string;
  mask(text: string | null): string | null;
  mask(text: string | null): string | null {
    if (text === null) return text;
    return text.replace(this.pattern, mask);
  }

  /** Masks every string inside a JSON-like value (records of a test run, state). */
  maskDeep<T>(value: T): T {
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
