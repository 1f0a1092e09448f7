import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One JSON line per event; a readable form when stdout is a terminal. `redact` is the last
 * line of defence for secret-bearing fields; values are masked before they reach a log call.
 */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  const pretty = options.pretty ?? process.stdout.isTTY === true;
  return pino({
    level: options.level ?? 'info',
    base: { service: 'tapline' },
    redact: { paths: ['req.headers["x-api-key"]', 'apiKey', 'secret.values'], censor: '****' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
