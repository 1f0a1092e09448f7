import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { cliError } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import { withHint } from '../report-error.js';
import { shellWord } from '../shell-word.js';
import { printTable } from '../table.js';

interface PipelineView {
  name: string;
  description?: string;
  primaryKey?: string[];
  destinations?: { type: string; table?: string; writeMode?: string }[];
  createdAt: string;
  updatedAt: string;
}

const path = (name: string) => `/pipelines/${encodeURIComponent(name)}`;

/** A pipeline definition from a JSON or YAML file; YAML is tried for anything not *.json. */
async function readPipelineFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw cliError('file_unreadable', file, reason);
  }
  let parsed: unknown;
  try {
    parsed = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw cliError('file_invalid', file, `is not valid JSON or YAML: ${String(error)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw cliError('file_invalid', file, 'must hold one pipeline object');
  }
  return parsed as Record<string, unknown>;
}

function destinationsText(pipeline: PipelineView): string {
  return (pipeline.destinations ?? [])
    .map((d) => [d.type, d.table, d.writeMode].filter(Boolean).join(':'))
    .join(', ');
}

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command('pipeline').description('save and inspect pipelines');

  pipeline
    .command('list')
    .description('list the saved pipelines')
    .action(async (_options, command: Command) => {
      const { client, out } = commandContext(command);
      const pipelines = await client.get<PipelineView[]>('/pipelines');
      if (out.json) return out.printJson(pipelines);
      if (pipelines.length === 0) {
        return out.line('no pipelines yet; save one with: tapline pipeline add FILE');
      }
      printTable(
        out,
        ['NAME', 'KEY', 'DESTINATIONS', 'UPDATED', 'DESCRIPTION'],
        pipelines.map((p) => [
          p.name,
          (p.primaryKey ?? []).join(', '),
          destinationsText(p),
          p.updatedAt,
          p.description ?? '',
        ]),
      );
    });

  pipeline
    .command('show')
    .description("show a pipeline's definition")
    .argument('<name>', 'pipeline name')
    .action(async (name: string, _options, command: Command) => {
      const { client, out } = commandContext(command);
      // The definition is JSON either way; printed whole it can be saved and edited as is.
      out.printJson(await client.get<PipelineView>(path(name)));
    });

  pipeline
    .command('add')
    .description('save a pipeline from a JSON or YAML file')
    .argument('<file>', 'pipeline definition (.json, .yaml or .yml)')
    .option('--replace', 'replace a pipeline of the same name instead of refusing')
    .action(async (file: string, options: { replace?: boolean }, command: Command) => {
      const { client, out } = commandContext(command);
      const body = await readPipelineFile(file);
      const name = typeof body.name === 'string' ? body.name : '';
      const saved = options.replace
        ? await client.put<PipelineView>(path(name), body)
        : await client
            .post<PipelineView>('/pipelines', body)
            .catch(
              withHint(
                'pipeline_exists',
                `replace it with: tapline pipeline add ${shellWord(file)} --replace`,
              ),
            );
      if (out.json) return out.printJson(saved);
      out.line(`saved pipeline '${saved.name}' (${destinationsText(saved)})`);
    });

  pipeline
    .command('rm')
    .description('delete a pipeline')
    .argument('<name>', 'pipeline name')
    .option('--force', 'delete it even though taps target it')
    .action(async (name: string, options: { force?: boolean }, command: Command) => {
      const { client, out } = commandContext(command);
      await client
        .delete(path(name), options.force ? { force: 'true' } : undefined)
        .catch(
          withHint(
            'pipeline_in_use',
            `delete it anyway with: tapline pipeline rm ${shellWord(name)} --force`,
          ),
        );
      if (out.json) return out.printJson({ deleted: name });
      out.line(`deleted pipeline '${name}'`);
    });
}
