import type { Command } from 'commander';
import { usageError } from '../cli-error.js';

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535)
    throw usageError(`--port must be 0 to 65535, not '${text}'`);
  return port;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('start the tapline server')
    .option('--host <host>', 'address to listen on (TAPLINE_HOST, default 127.0.0.1)')
    .option(
      '--port <port>',
      'port to listen on, 0 for any free one (TAPLINE_PORT, default 8080)',
      parsePort,
    )
    .option('--data-dir <dir>', 'where metadata, warehouse and staging live (TAPLINE_DATA_DIR)')
    .action(async (options: { host?: string; port?: number; dataDir?: string }) => {
      // Loaded here, not at the top: the client commands should not pay for the server's start-up.
      const { serve } = await import('../../server/serve.js');
      await serve({
        overrides: { host: options.host, port: options.port, dataDir: options.dataDir },
      });
    });
}
