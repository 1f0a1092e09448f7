import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/**
 * Masks secret values in every log line just before it is written. The secret service sets
 * the function once it knows the values; until then lines pass unchanged.
 */
export class LogMask {
  private apply: (line: string) => string = (line) => line;

  set(apply: (line: string) => string): void {
    this.apply = apply;
  }

  mask(line: string): string {
    return this.apply(line);
  }
}

/**
 * One JSON line per event; a readable form when stdout is a terminal. Secret values are masked
 * at the last step, on the written line, so no field or message can carry one out.
 */
export function createLogger(
  options: {
    level?: string;
    pretty?: boolean;
    mask?: LogMask;
    destination?: DestinationStream;
  } = {},
): Logger {
  const usePretty = options.pretty ?? process.stdout.isTTY === true;
  const target: DestinationStream =
    options.destination ??
    (usePretty ? pretty({ colorize: true }) : pino.destination({ fd: 1, sync: false }));
  const mask = options.mask;
  const stream: DestinationStream = mask
    ? { write: (line: string) => target.write(mask.mask(line)) }
    : target;
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: 'tapline' },
      redact: { paths: ['req.headers["x-api-key"]', 'apiKey'], censor: '****' },
    },
    stream,
  );
}
