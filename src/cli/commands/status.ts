import type { Command } from 'commander';
import { exitCodes } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import {
  findStatus,
  jobLine,
  loadSucceeded,
  printLoadSummary,
  waitForLoad,
} from '../load-status.js';

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show the load status of a publisherToken or pipelineToken')
    .argument('<token>', 'a publisherToken or pipelineToken from a run-mode answer')
    .option('--wait', 'show the load live and wait until it is done')
    .action(async (token: string, options: { wait?: boolean }, command: Command) => {
      const { client, out } = commandContext(command);
      const found = await findStatus(client, token);
      const status = options.wait
        ? await waitForLoad(client, out, found.kind, token)
        : found.status;

      if (out.json) {
        out.printJson(status);
      } else if (status.rollup.allDone) {
        if (!options.wait) {
          for (const job of status.rollup.jobs) out.line(jobLine(out, job, status.events));
        }
        printLoadSummary(out, status);
      } else {
        for (const job of status.rollup.jobs) out.line(jobLine(out, job, status.events));
        out.line(`load ${out.status(status.rollup.status)}; --wait follows it to the end`);
      }
      // Still loading is not a failure; a failed load is.
      if (status.rollup.allDone && !loadSucceeded(status)) process.exitCode = exitCodes.failure;
    });
}
