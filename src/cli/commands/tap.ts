import { readFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import type { RunSummary, TapView } from '../../taps/tap-schema.js';
import { cliError } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import type { Output } from '../output.js';
import { withHint } from '../report-error.js';
import { shellWord } from '../shell-word.js';
import { printTable } from '../table.js';
import { registerTapRunCommands } from './tap-run.js';

const path = (name: string) => `/taps/${encodeURIComponent(name)}`;

async function readScript(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw cliError('script_unreadable', file, reason);
  }
}

function parseSeconds(text: string): number {
  const value = Number(text);
  if (!(value > 0))
    throw cliError('usage', `--timeout must be a number of seconds above 0, not '${text}'`);
  return value;
}

function summaryText(summary: RunSummary | null): string {
  if (!summary) return '-';
  return `${summary.status} (${summary.recordCount}) ${summary.startedAt.slice(0, 16)}`;
}

function printTap(out: Output, tap: TapView): void {
  const schedule = tap.schedule ? `${tap.schedule.cron} (${tap.schedule.timezone})` : '-';
  const fields: [string, string][] = [
    ['name', tap.name],
    ['description', tap.description || '-'],
    ['kind', tap.kind],
    ['pipeline', tap.targetPipeline ?? '- (run mode keeps nothing)'],
    ['schedule', schedule],
    ['next run', tap.nextRunAt ?? '-'],
    ['enabled', String(tap.enabled)],
    ['secret', tap.secret ?? '-'],
    ['timeout', tap.timeoutSeconds === null ? 'default' : `${tap.timeoutSeconds} s`],
    ['version', `${tap.version} (updated ${tap.updatedAt})`],
    ['last test', summaryText(tap.lastTest)],
    ['last run', summaryText(tap.lastRun)],
  ];
  for (const [label, value] of fields) out.line(`${out.style.bold(label.padEnd(12))}${value}`);
  out.line();
  out.line(out.style.dim('--- script ---'));
  out.line(tap.script.trimEnd());
}

interface TapOptions {
  script?: string;
  pipeline?: string | false;
  description?: string;
  secret?: string | false;
  cron?: string | false;
  timezone?: string;
  kind?: string;
  timeout?: number;
  enabled?: boolean;
}

/** The fields of a tap body the options set; absent options leave a field as it was. */
async function tapFields(options: TapOptions, current?: TapView): Promise<Record<string, unknown>> {
  const fields: Record<string, unknown> = {};
  if (options.script !== undefined) fields.script = await readScript(options.script);
  if (options.pipeline !== undefined) fields.targetPipeline = options.pipeline || null;
  if (options.description !== undefined) fields.description = options.description;
  if (options.secret !== undefined) fields.secret = options.secret || null;
  if (options.kind !== undefined) fields.kind = options.kind;
  if (options.timeout !== undefined) fields.timeoutSeconds = options.timeout;
  if (options.enabled !== undefined) fields.enabled = options.enabled;

  if (options.cron === false) {
    fields.schedule = null;
  } else if (options.cron !== undefined || options.timezone !== undefined) {
    const cron = options.cron ?? current?.schedule?.cron;
    if (cron === undefined) throw cliError('usage', '--timezone needs a schedule; give --cron too');
    fields.schedule = { cron, timezone: options.timezone ?? current?.schedule?.timezone ?? 'UTC' };
  }
  return fields;
}

function addSettingOptions(command: Command): Command {
  return command
    .option('--description <text>', 'what the tap fetches')
    .option('--pipeline <name>', 'pipeline that run-mode records feed')
    .option('--secret <name>', 'secret whose fields the script gets as environment variables')
    .option('--cron <expression>', 'schedule, e.g. "0 6 * * *"')
    .option('--timezone <zone>', 'IANA time zone the cron expression is read in (default UTC)')
    .addOption(new Option('--kind <kind>', 'kind of records').choices(['structured', 'document']))
    .option(
      '--timeout <seconds>',
      'wall-clock limit, overriding the per-mode default',
      parseSeconds,
    );
}

/** The value of `tap state --set`: a JSON object, as the server stores a state. */
function parseState(text: string): Record<string, unknown> {
  const example = `e.g. --set '{"cursor": "2015-01-01"}'`;
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch {
    throw cliError('usage', `--set needs a JSON object, ${example}`);
  }
  if (state === null) {
    throw cliError(
      'usage',
      `--set needs a JSON object, not null, ${example}; --reset forgets the state`,
    );
  }
  if (typeof state !== 'object' || Array.isArray(state)) {
    const what = Array.isArray(state) ? 'an array' : `a ${typeof state}`;
    throw cliError('usage', `--set needs a JSON object, not ${what}, ${example}`);
  }
  return state as Record<string, unknown>;
}

export function registerTapCommands(program: Command): void {
  const tap = program.command('tap').description('save, test and run taps');

  tap
    .command('list')
    .description('list the saved taps')
    .action(async (_options, command: Command) => {
      const { client, out } = commandContext(command);
      const taps = await client.get<TapView[]>('/taps');
      if (out.json) return out.printJson(taps);
      if (taps.length === 0)
        return out.line('no taps yet; save one with: tapline tap add NAME --script FILE');
      printTable(
        out,
        ['NAME', 'PIPELINE', 'SCHEDULE', 'VERSION', 'LAST TEST', 'LAST RUN', 'DESCRIPTION'],
        taps.map((t) => [
          t.name,
          t.targetPipeline ?? '-',
          t.schedule?.cron ?? '-',
          t.version,
          summaryText(t.lastTest),
          summaryText(t.lastRun),
          t.description,
        ]),
      );
    });

  tap
    .command('show')
    .description("show a tap's settings, last runs and script")
    .argument('<name>', 'tap name')
    .action(async (name: string, _options, command: Command) => {
      const { client, out } = commandContext(command);
      const view = await client.get<TapView>(path(name));
      if (out.json) return out.printJson(view);
      printTap(out, view);
    });

  addSettingOptions(
    tap
      .command('add')
      .description('save a new tap from a Python file that defines fetch()')
      .argument('<name>', 'tap name: letters, digits, _ . -')
      .requiredOption('--script <file>', 'Python file that defines fetch()'),
  )
    .option('--disabled', 'save it disabled (its schedule does not fire)')
    .action(
      async (name: string, options: TapOptions & { disabled?: boolean }, command: Command) => {
        const { client, out } = commandContext(command);
        const fields = await tapFields({
          ...options,
          enabled: options.disabled ? false : undefined,
        });
        const script = shellWord(options.script ?? 'FILE');
        const update = `tapline tap update ${shellWord(name)} --script ${script}`;
        const saved = await client
          .post<TapView>('/taps', { name, ...fields })
          .catch(withHint('tap_exists', `change it with: ${update}`));
        if (out.json) return out.printJson(saved);
        out.line(`saved tap '${saved.name}' (version ${saved.version})`);
        out.line(out.style.dim(`try it: tapline tap test ${saved.name}`));
      },
    );

  addSettingOptions(
    tap
      .command('update')
      .description("change a tap's script or settings; a changed script makes a new version")
      .argument('<name>', 'tap name')
      .option('--script <file>', 'Python file that defines fetch()'),
  )
    .option('--no-pipeline', 'stop feeding a pipeline')
    .option('--no-secret', 'give the script no secret')
    .option('--no-cron', 'remove the schedule')
    .option('--enable', 'let the schedule fire')
    .option('--disable', 'stop the schedule from firing')
    .action(
      async (
        name: string,
        options: TapOptions & { enable?: boolean; disable?: boolean },
        command: Command,
      ) => {
        if (options.enable && options.disable)
          throw cliError('usage', 'give --enable or --disable, not both');
        const { client, out } = commandContext(command);
        const current = await client.get<TapView>(path(name));
        const enabled = options.enable ? true : options.disable ? false : undefined;
        const fields = await tapFields({ ...options, enabled }, current);
        if (Object.keys(fields).length === 0) {
          throw cliError(
            'usage',
            'nothing to change; give --script or a setting (see tapline tap update --help)',
          );
        }
        const saved = await client.put<TapView>(path(name), { ...current, ...fields });
        if (out.json) return out.printJson(saved);
        const versionNote =
          saved.version === current.version ? 'script unchanged' : `now version ${saved.version}`;
        out.line(`updated tap '${saved.name}' (${versionNote})`);
      },
    );

  tap
    .command('rm')
    .description('delete a tap with its versions, runs and state')
    .argument('<name>', 'tap name')
    .action(async (name: string, _options, command: Command) => {
      const { client, out } = commandContext(command);
      await client.delete(path(name));
      if (out.json) return out.printJson({ deleted: name });
      out.line(`deleted tap '${name}'`);
    });

  tap
    .command('versions')
    .description("list a tap's script versions, newest first")
    .argument('<name>', 'tap name')
    .action(async (name: string, _options, command: Command) => {
      const { client, out } = commandContext(command);
      const versions = await client.get<{ version: number; script: string; createdAt: string }[]>(
        `${path(name)}/versions`,
      );
      if (out.json) return out.printJson(versions);
      printTable(
        out,
        ['VERSION', 'CREATED', 'LINES', 'FIRST LINE'],
        versions.map((v) => [
          v.version,
          v.createdAt,
          // A final newline ends the last line; it does not start another.
          v.script.trimEnd().split('\n').length,
          v.script.split('\n').find((line) => line.trim() !== '') ?? '',
        ]),
      );
    });

  tap
    .command('state')
    .description("show a tap's state (its incremental bookmark), or set or reset it")
    .argument('<name>', 'tap name')
    .option('--set <json>', 'replace the state with this JSON object')
    .option('--reset', 'forget the state: the next run starts from the beginning')
    .action(async (name: string, options: { set?: string; reset?: boolean }, command: Command) => {
      const { client, out } = commandContext(command);
      if (options.set !== undefined && options.reset)
        throw cliError('usage', 'give --set or --reset, not both');
      if (options.reset) {
        await client.delete(`${path(name)}/state`);
        if (out.json) return out.printJson({ tap: name, state: null });
        return out.line(`reset the state of tap '${name}'`);
      }
      if (options.set !== undefined) {
        const state = parseState(options.set);
        const saved = await client.put<unknown>(`${path(name)}/state`, state);
        return out.json ? out.printJson(saved) : out.line(`set the state of tap '${name}'`);
      }
      const current = await client.get<{ state: unknown; updatedAt: string | null }>(
        `${path(name)}/state`,
      );
      if (out.json) return out.printJson(current);
      if (current.state === null) return out.line(`tap '${name}' has no state yet`);
      out.line(JSON.stringify(current.state, null, 2));
      out.line(out.style.dim(`updated ${current.updatedAt}`));
    });

  registerTapRunCommands(tap);
}
