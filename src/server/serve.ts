import { existsSync } from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
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

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** 127.0.0.0/8 and ::1 in any spelling, IPv4-mapped (::ffff:127.0.0.1) included. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost') return true;
  if (isIPv4(address)) return loopback.check(address, 'ipv4');
  return isIPv6(address) && loopback.check(address, 'ipv6');
}

function noAuthRefusal(host: string): StartupError {
  return new StartupError(
    `refusing to listen on ${host} without an API key: anyone who reaches it could run ` +
      "code. Create a key with 'tapline key create NAME --role admin', set TAPLINE_API_KEY, " +
      'or start with --allow-no-auth',
  );
}

/**
 * Starts the server and wires SIGTERM/SIGINT to a graceful stop: no new requests, running
 * scripts finish within the grace period, unfinished jobs stay queued for the next start.
 */
export async function serve(options: ServeOptions = {}): Promise<FastifyInstance> {
  const config = loadConfig({ overrides: options.overrides ?? {} });
  const logMask = new LogMask();
  const logger = createLogger({ level: config.logLevel, mask: logMask });
  const mustHaveKey = !isLoopback(config.host) && !options.allowNoAuth;
  // A data directory that does not exist holds no key: refuse before creating it.
  if (mustHaveKey && !config.apiKey && !existsSync(config.dataDir)) {
    throw noAuthRefusal(config.host);
  }
  const context = await createContext(config, logger, logMask);
  if (mustHaveKey && !(await context.keys.enabled())) {
    await context.close(0);
    throw noAuthRefusal(config.host);
  }
  const app = await buildApp(context);
  const graceMs = config.shutdownGraceSeconds * 1000;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, graceMs }, 'stopping');
    // Scripts and loads share one grace period from the signal: runs are told now, and the
    // context, closed once the requests still running have answered, stops the queue with
    // what is left of it (context.ts). The store closes last.
    const deadline = Date.now() + graceMs;
    context.scheduler.stop();
    context.runs.stopAfter(graceMs);
    // A keep-alive connection whose last request ends during shutdown would otherwise hold
    // close() open for the whole keep-alive timeout (72 s in Fastify).
    const closer = setInterval(() => app.server.closeIdleConnections(), 100);
    await app.close();
    clearInterval(closer);
    await context.close(Math.max(0, deadline - Date.now()));
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
