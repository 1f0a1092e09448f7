#!/usr/bin/env node
import { Command } from 'commander';
import { serve } from '../server/serve.js';

const program = new Command();
program.name('tapline').description('Run Python data taps, test them, and load their records.');

program
  .command('serve')
  .description('start the tapline server')
  .option('--host <host>', 'address to listen on (TAPLINE_HOST, default 127.0.0.1)')
  .option('--port <port>', 'port to listen on (TAPLINE_PORT, default 8080)', (v) => Number(v))
  .option('--data-dir <dir>', 'where metadata, warehouse and staging live (TAPLINE_DATA_DIR)')
  .action(async (options: { host?: string; port?: number; dataDir?: string }) => {
    await serve({
      overrides: { host: options.host, port: options.port, dataDir: options.dataDir },
    });
  });

await program.parseAsync();
