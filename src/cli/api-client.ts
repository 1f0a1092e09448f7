import http from 'node:http';
import https from 'node:https';
import { parseRecordJson, stringifyRecords } from '../records/record-json.js';
import { CliError, cliError, cliErrorMessage } from './cli-errors.js';

/** The server answered with an error body: `{"error": {"code", "message", ...}}`. */
export class ApiError extends Error {
  /** What to do about it on the command line, added by the command that knows its flags. */
  hint: string | undefined;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Nothing answered at the URL: the server is not running, or the URL is wrong. */
function unreachable(url: string, reason: string): CliError {
  const shown = withoutPassword(url);
  return new CliError('unreachable', cliErrorMessage('unreachable', shown, reason), { url: shown });
}

/** The URL as it may be printed: a password in it (https://user:pass@host) becomes ***. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    // A URL that does not parse fails before any request is made, so it never reaches here.
    return url;
  }
}

export interface ApiClientOptions {
  /** Where the server listens, e.g. http://127.0.0.1:8080; a trailing /api/v1 is accepted. */
  url: string;
  apiKey?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

/**
 * A thin client of the HTTP API. It speaks node:http rather than fetch because a run-mode
 * request answers only when the script has finished, which may take an hour, and fetch gives
 * up on response headers after five minutes.
 */
export class ApiClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;

  constructor(options: ApiClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
    this.apiKey = options.apiKey || undefined;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, { body });
  }

  delete(path: string, query?: Query): Promise<void> {
    return this.request<void>('DELETE', path, { query });
  }

  private request<T>(method: string, path: string, options: { query?: Query; body?: unknown }) {
    const url = new URL(`${this.baseUrl}/api/v1${path}`);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = options.body === undefined ? undefined : stringifyRecords(options.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'x-tapline-client': 'cli',
    };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    if (this.apiKey) headers['x-api-key'] = this.apiKey;

    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => reject(unreachable(this.baseUrl, error.message)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(this.answer<T>(res.statusCode ?? 0, text));
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        reject(unreachable(this.baseUrl, error.code ?? error.message));
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private answer<T>(status: number, text: string): T {
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        // Records may hold integers past 2^53; this parse keeps them exact.
        body = parseRecordJson(text);
      } catch {
        if (status < 400) throw cliError('bad_answer', status);
      }
    }
    if (status >= 200 && status < 300) return body as T;

    const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
    if (error && typeof error.message === 'string') {
      const { code, message, ...details } = error;
      // Tapline always sends a code; an error without one came from something in between.
      if (typeof code === 'string') throw new ApiError(status, code, message, details);
      throw cliError('http_error', status, message);
    }
    throw cliError('http_error', status, text.slice(0, 200).trim());
  }
}
