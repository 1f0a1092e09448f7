import type { Command } from 'commander';
import { cliError } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import { withHint } from '../report-error.js';
import { shellWord } from '../shell-word.js';
import { printTable } from '../table.js';

interface SecretView {
  name: string;
  fields: string[];
  createdAt: string;
  updatedAt: string;
}

/** `FIELD=value`; the value may hold `=` and anything else, the field may not. */
function parseField(text: string): [string, string] {
  const at = text.indexOf('=');
  const field = at > 0 ? text.slice(0, at) : '';
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
    throw cliError(
      'usage',
      `expected FIELD=value with FIELD an environment variable name, not '${text.slice(0, 40)}'`,
    );
  }
  return [field, text.slice(at + 1)];
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

export function registerSecretCommands(program: Command): void {
  const secret = program.command('secret').description('store credentials that taps receive');

  secret
    .command('set')
    .description('create or replace a secret; values never come back out')
    .argument('<name>', 'secret name, named by taps in their `secret` field')
    .argument('[fields...]', 'FIELD=value pairs (values on the command line land in shell history)')
    .option('--stdin', 'read FIELD=value lines from standard input instead, one per line')
    .action(
      async (name: string, fields: string[], flags: { stdin?: boolean }, command: Command) => {
        const { client, out } = commandContext(command);
        const lines = flags.stdin
          ? (await readStdin())
              .split(/\r?\n/)
              .filter((line) => line.trim() !== '' && !line.startsWith('#'))
          : fields;
        if (lines.length === 0)
          throw cliError('usage', 'give at least one FIELD=value, or --stdin');
        const values = Object.fromEntries(lines.map(parseField));
        const saved = await client.post<SecretView>('/secrets', { name, values });
        if (out.json) return out.printJson(saved);
        out.line(`secret '${saved.name}' saved with ${saved.fields.join(', ')}`);
      },
    );

  secret
    .command('list')
    .description('list secrets: names and field names, never values')
    .action(async (_flags, command: Command) => {
      const { client, out } = commandContext(command);
      const secrets = await client.get<SecretView[]>('/secrets');
      if (out.json) return out.printJson(secrets);
      if (secrets.length === 0)
        return out.line('no secrets; add one with: tapline secret set NAME FIELD=value');
      printTable(
        out,
        ['NAME', 'FIELDS', 'UPDATED'],
        secrets.map((s) => [s.name, s.fields.join(', '), s.updatedAt]),
      );
    });

  secret
    .command('rm')
    .description('delete a secret; refused while taps name it, unless --force')
    .argument('<name>', 'secret name')
    .option('--force', 'delete it even though taps name it')
    .action(async (name: string, options: { force?: boolean }, command: Command) => {
      const { client, out } = commandContext(command);
      const query = options.force ? { force: 'true' } : undefined;
      await client
        .delete(`/secrets/${encodeURIComponent(name)}`, query)
        .catch(
          withHint(
            'secret_in_use',
            `delete it anyway with: tapline secret rm ${shellWord(name)} --force`,
          ),
        );
      if (out.json) return out.printJson({ deleted: name });
      out.line(`secret '${name}' deleted`);
    });
}
