import type { Command } from 'commander';
import { cliError } from '../cli-errors.js';
import { reportError } from '../report-error.js';

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw cliError('usage', `--port must be 0 to 65535, not '${text}'`);
  }
  return port;
}

interface ServeFlags {
  host?: string;
  port?: number;
  dataDir?: string;
  allowNoAuth?: boolean;
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
    .option('--allow-no-auth', 'listen beyond this machine without an API key (not advised)')
    .action(async (flags: ServeFlags, command: Command) => {
      // Loaded here, not at the top: the client commands should not pay for the server's start.
      const { serve } = await import('../../server/serve.js');
      try {
        await serve({
          overrides: { host: flags.host, port: flags.port, dataDir: flags.dataDir },
          allowNoAuth: flags.allowNoAuth === true,
        });
      } catch (error) {
        // A bad configuration or a refused start is the user's to fix: say so without a stack.
        // Anything else with a code is the system's refusal (EACCES on the data directory).
        const { code, message } = error as { code?: unknown; message?: string };
        const config = error instanceof Error && error.name === 'ConfigError';
        const refused = error instanceof Error && typeof code === 'string';
        if (!config && !refused) throw error;
        const failure = cliError(config ? 'config' : 'startup_refused', message ?? '');
        const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
        // Exit at once: a start that failed after opening the store (a port in use) leaves
        // its workers and timers running, which would keep this process alive.
        process.exit(reportError(failure, { json }));
      }
    });
}
