#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerKeyCommands } from './commands/key.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerServeCommand } from './commands/serve.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTapCommands } from './commands/tap.js';
import { reportError } from './report-error.js';

const packageJson = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { version: string };

const program = new Command();
program
  .name('tapline')
  .description('Run Python data taps, test them, and load their records into tables.')
  .version(packageJson.version)
  .option(
    '--url <url>',
    'where the tapline server listens (TAPLINE_URL)',
    process.env.TAPLINE_URL || 'http://127.0.0.1:8080',
  )
  .option(
    '--api-key <key>',
    'API key sent as x-api-key (TAPLINE_API_KEY)',
    process.env.TAPLINE_API_KEY,
  )
  .option('--json', 'print JSON for scripts instead of text')
  .option('--no-color', 'print no colours (also when NO_COLOR is set or output is not a terminal)')
  .showHelpAfterError('(tapline --help lists the commands)')
  // Set before the subcommands exist, so every one of them inherits it.
  .exitOverride();

registerServeCommand(program);
registerTapCommands(program);
registerPipelineCommands(program);
registerStatusCommand(program);
registerSecretCommands(program);
registerKeyCommands(program);

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has printed its message already; a mistake in the command line exits 2.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    process.exitCode = reportError(error, { json: process.argv.includes('--json') });
  }
}
