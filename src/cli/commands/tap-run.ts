import type { Command } from 'commander';
import type { RunAnswer, RunView } from '../../runs/run-schema.js';
import { counted } from '../../status/counted.js';
import { cliError, exitCodes } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import { loadSucceeded, printLoadSummary, waitForLoad } from '../load-status.js';
import type { Output } from '../output.js';
import { collectParam, parseCount } from '../params.js';
import { printTable } from '../table.js';

const paramHelp = 'a run parameter, repeatable: key=value (a string) or key:=<json>';

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function describeDuration(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** Logs, error and explanation: what a user reads when a run did not go as hoped. */
function printDiagnostics(out: Output, answer: RunAnswer, maxLogLines = Infinity): void {
  const lines = answer.logs.trimEnd().split('\n');
  if (answer.logs.trim() !== '') {
    const cut = lines.length - maxLogLines;
    out.line(
      out.style.bold(cut > 0 ? `logs (last ${maxLogLines} lines; --json has all):` : 'logs:'),
    );
    out.line(indent(lines.slice(Math.max(0, cut)).join('\n')));
  }
  if (answer.error) {
    out.line(out.style.bold(out.style.red('error:')));
    out.line(indent(answer.error));
  }
  if (answer.aiExplanation) {
    out.line(out.style.bold('explanation:'));
    out.line(indent(answer.aiExplanation));
  }
}

function printTestAnswer(out: Output, answer: RunAnswer): void {
  const records = answer.records ?? [];
  if (records.length > 0) {
    const columns = answer.columns.length > 0 ? answer.columns : Object.keys(records[0] ?? {});
    printTable(
      out,
      columns,
      records.map((record) => columns.map((column) => record[column])),
    );
    out.line();
  }

  const more = answer.recordsTruncated ? ' (stopped at the limit; --limit 0 returns all)' : '';
  out.line(
    `${out.status(answer.status)}: ${counted(answer.recordCount, 'record')}${more}, ` +
      `${answer.dataType ?? 'no data type'}, ${describeDuration(answer.durationMs)}, ` +
      `run ${answer.runId}`,
  );
  if (answer.columns.length > 0) {
    out.line(`columns (${answer.columns.length}): ${answer.columns.join(', ')}`);
  }
  printDiagnostics(out, answer);
}

const reasons: Record<string, string> = {
  test_mode: 'test mode stores nothing',
  run_error: 'the script failed',
  no_records: 'the script returned no records',
  no_target_pipeline:
    "the tap has no target pipeline; set one with 'tapline tap update --pipeline'",
};

function printRunAnswer(out: Output, answer: RunAnswer): void {
  const duration = describeDuration(answer.durationMs);
  out.line(
    `${out.status(answer.status)}: ${counted(answer.recordCount, 'record')} in ${duration}, ` +
      `run ${answer.runId}`,
  );
  if (answer.persisted) {
    out.line(`fed into pipeline ${answer.targetPipeline}; publisherToken ${answer.publisherToken}`);
  } else {
    const reason = answer.persistedReason ?? 'unknown';
    out.line(`nothing persisted: ${reason} (${reasons[reason] ?? reason})`);
  }
  // A run's logs can be long; its data went to the pipeline, so only their end is news.
  printDiagnostics(out, answer, answer.status === 'success' ? 5 : 40);
}

function runBody(name: string, mode: 'test' | 'run', options: RunOptions) {
  return {
    name,
    mode,
    params: options.param ?? {},
    ...(options.limit !== undefined ? { testLimit: options.limit } : {}),
    ...(options.updateState !== undefined ? { updateState: options.updateState } : {}),
  };
}

interface RunOptions {
  param?: Record<string, unknown>;
  limit?: number;
  wait?: boolean;
  timeout?: number;
  updateState?: boolean;
}

export function registerTapRunCommands(tap: Command): void {
  tap
    .command('test')
    .description('run a tap and show what it returns, storing nothing')
    .argument('<name>', 'tap name')
    .option('--limit <n>', 'stop after this many records; 0 returns all (default 20)', (text) =>
      parseCount('--limit', text),
    )
    .option('--param <key=value>', paramHelp, collectParam)
    .action(async (name: string, options: RunOptions, command: Command) => {
      const { client, out } = commandContext(command);
      const answer = await client.post<RunAnswer>('/tap/run', runBody(name, 'test', options));
      if (out.json) out.printJson(answer);
      else printTestAnswer(out, answer);
      if (answer.status !== 'success') process.exitCode = exitCodes.failure;
    });

  tap
    .command('run')
    .description("run a tap and feed its records into the tap's pipeline")
    .argument('<name>', 'tap name')
    .option('--param <key=value>', paramHelp, collectParam)
    .option('--wait', 'show the load live and wait until it is done')
    .option('--timeout <seconds>', 'with --wait, give up waiting after this long', (text) =>
      parseCount('--timeout', text),
    )
    .option('--update-state', 'commit the state the run produces even though it has params')
    .option('--no-update-state', 'keep the stored state whatever the run produces')
    .action(async (name: string, options: RunOptions, command: Command) => {
      if (options.timeout !== undefined && !options.wait)
        throw cliError('usage', '--timeout needs --wait');
      const { client, out } = commandContext(command);
      const answer = await client.post<RunAnswer>('/tap/run', runBody(name, 'run', options));
      if (!out.json) printRunAnswer(out, answer);
      if (answer.status !== 'success') {
        if (out.json) out.printJson(answer);
        process.exitCode = exitCodes.failure;
        return;
      }

      if (!options.wait || !answer.publisherToken) {
        if (out.json) out.printJson(answer);
        else if (answer.publisherToken) {
          out.line(
            out.style.dim(`follow the load: tapline status ${answer.publisherToken} --wait`),
          );
        }
        return;
      }

      const timeoutMs = options.timeout === undefined ? undefined : options.timeout * 1000;
      const load = await waitForLoad(
        client,
        out,
        'publishertoken',
        answer.publisherToken,
        timeoutMs,
      );
      if (out.json) out.printJson({ ...answer, rollup: load.rollup });
      else {
        out.line();
        printLoadSummary(out, load);
      }
      if (!loadSucceeded(load)) process.exitCode = exitCodes.failure;
    });

  tap
    .command('runs')
    .description("list a tap's runs, newest first")
    .argument('<name>', 'tap name')
    .option('--limit <n>', 'how many (default 20)', (text) => parseCount('--limit', text))
    .option('--offset <n>', 'skip this many of the newest', (text) => parseCount('--offset', text))
    .action(
      async (name: string, options: { limit?: number; offset?: number }, command: Command) => {
        const { client, out } = commandContext(command);
        const runs = await client.get<RunView[]>(`/taps/${encodeURIComponent(name)}/runs`, {
          limit: options.limit,
          offset: options.offset,
        });
        if (out.json) return out.printJson(runs);
        if (runs.length === 0) return out.line(`tap '${name}' has not run yet`);
        // The publisher token whole, for `tapline status`; a run that loaded nothing says why.
        printTable(
          out,
          ['STARTED', 'MODE', 'TRIGGER', 'STATUS', 'RECORDS', 'DURATION', 'PUBLISHER TOKEN', 'RUN'],
          runs.map((run) => [
            run.startedAt.slice(0, 19).replace('T', ' '),
            run.mode,
            run.trigger,
            run.status,
            run.recordCount,
            describeDuration(run.durationMs),
            run.publisherToken ?? (run.persistedReason ? `- (${run.persistedReason})` : '-'),
            run.runId,
          ]),
          { whole: ['PUBLISHER TOKEN'] },
        );
      },
    );
}
