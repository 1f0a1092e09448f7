#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { cliError, exitCodes } from './cli-errors.js';
import { registerKeyCommands } from './commands/key.js';
import { registerPipelineCommands } from './commands/pipeline.js';
import { registerSecretCommands } from './commands/secret.js';
import { registerServeCommand } from './commands/serve.js';
import { registerStatusCommand } from './commands/status.js';
import { registerTapCommands } from './commands/tap.js';
import { dropOutputToClosedPipes } from './output.js';
import { reportError } from './report-error.js';

dropOutputToClosedPipes();
const json = process.argv.includes('--json');

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
  // With --json a usage mistake is reported below in the JSON error shape, not as text.
  .configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) })
  // Set before the subcommands exist, so every one of them inherits them.
  .exitOverride();

registerServeCommand(program);
registerTapCommands(program);
registerPipelineCommands(program);
registerStatusCommand(program);
registerSecretCommands(program);
registerKeyCommands(program);

/** After a usage mistake, point to the help of the command that was mistyped. */
function pointToHelp(command: Command, name: string): void {
  if (json) return;
  command.showHelpAfterError(
    command.commands.length > 0
      ? `(${name} --help lists its commands)`
      : `(${name} --help describes its arguments and options)`,
  );
  for (const sub of command.commands) pointToHelp(sub, `${name} ${sub.name()}`);
}
pointToHelp(program, 'tapline');

/** What commander throws after printing help or the version, which are not mistakes. */
const helpCodes = ['commander.help', 'commander.helpDisplayed', 'commander.version'];

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // A mistake in the command line exits 2; without --json commander has printed it already.
    if (json && error.exitCode !== 0 && !helpCodes.includes(error.code)) {
      reportError(cliError('usage', error.message.replace(/^error: /, '')), { json });
    }
    process.exitCode = error.exitCode === 0 ? exitCodes.success : exitCodes.usage;
  } else {
    process.exitCode = reportError(error, { json });
  }
}
