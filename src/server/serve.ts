import { isIPv4 } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type ConfigInput, loadConfig } from '../config/config.js';
import { createContext } from '../app/context.js';
import { createLogger, LogMask } from '../log/logger.js';
import { StartupError } from '../app/startup-error.js';
import { buildApp } from './app.js';

export interface ServeOptions {
  overrides?: ConfigInput;
  allowNoAuth?: boolean;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIPv4(host) && host.startsWith('127.'));
}

/**
 * Starts the server and wires SIGTERM/SIGINT to a graceful stop: no new requests, running
 * scripts finish within the grace period, unfinished jobs stay queued for the next start.
 */
export async function serve(options: ServeOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig({ overrides: options.overrides ?? {} });
  const logMask = new LogMask();
  const logger = createLogger({ level: config.logLevel, mask: logMask });
  const context = await createContext(config, logger, logMask);
  if (!isLoopback(config.host) && !options.allowNoAuth && !(await context.keys.enabled())) {
    await context.close(0);
    throw new StartupError(
      `refusing to listen on ${config.host} without an API key: anyone who reaches it could run ` +
        "code. Create a key with 'tapline key create NAME --role admin', set TAPLINE_API_KEY, " +
        'or start with --allow-no-auth',
    );
  }
  const app = await buildApp(context);
  const graceMs = config.shutdownGraceSeconds * 1000;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs }, 'stopping');
    // Scripts and loads share one grace period from the signal; the store closes last, once
    // the requests still running have written their run records.
    context.scheduler.stop();
    context.runs.stopAfter(graceMs);
    const queueStopped = context.queue.stop(graceMs);
    // A keep-alive connection whose last request ends during shutdown would otherwise hold
    // close() open for the whole keep-alive timeout (72 s in Fastify).
    const closer = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close();
    clearInterval(closer);
    await queueStopped;
    await context.close(0);
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // A port in use: release the store and the workers, so the process can exit.
    await app.close();
    await context.close(0);
    throw new StartupError(
      `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`,
    );
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info({ host: config.host, port, dataDir: config.dataDir }, 'tapline listening');
  return app;
}
