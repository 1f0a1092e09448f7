import type { Command } from 'commander';
import { roles } from '../../auth/key-service.js';
import type { Role } from '../../store/store.js';
import { CliError, usageError } from '../cli-error.js';
import { commandContext } from '../command-context.js';
import { shellWord } from '../report-error.js';
import { printTable } from '../table.js';

interface KeyFlags {
  role?: string;
  dataDir?: string;
}

/**
 * Keys are managed on the server's own machine, against its data directory, not over HTTP:
 * the first key cannot be created by a caller who would need a key to ask for it.
 */
async function openKeys(dataDir: string | undefined) {
  const [{ loadConfig }, { openSqliteStore }, { KeyService }] = await Promise.all([
    import('../../config/config.js'),
    import('../../store/sqlite/sqlite-store.js'),
    import('../../auth/key-service.js'),
  ]);
  const config = loadConfig({ overrides: { dataDir } });
  const store = openSqliteStore(config.dataDir);
  return { keys: new KeyService(store, undefined), close: () => store.close() };
}

const dataDirOption = [
  '--data-dir <dir>',
  "the server's data directory (TAPLINE_DATA_DIR)",
] as const;

export function registerKeyCommands(program: Command): void {
  const key = program
    .command('key')
    .description('create, list and revoke API keys (run on the server)');

  key
    .command('create')
    .description('create an API key and print it once; only its hash is kept')
    .argument('<name>', 'a name for the key, e.g. airflow')
    .requiredOption('--role <role>', `what the key may do: ${roles.join(', ')}`)
    .option(...dataDirOption)
    .action(async (name: string, flags: KeyFlags, command: Command) => {
      const { out } = commandContext(command);
      if (!roles.includes(flags.role as Role)) {
        throw usageError(`--role must be one of ${roles.join(', ')}, not '${flags.role}'`);
      }
      const { keys, close } = await openKeys(flags.dataDir);
      try {
        if ((await keys.list()).some((existing) => existing.name === name)) {
          throw new CliError(
            'key_exists',
            `an API key named '${name}' already exists; pick another name, or revoke it ` +
              `first (tapline key revoke ${shellWord(name)}) to replace it`,
          );
        }
        const { key: secret, apiKey } = await keys.create(name, flags.role as Role);
        if (out.json) return out.printJson({ name: apiKey.name, role: apiKey.role, key: secret });
        out.line(secret);
        out.note(
          `API key '${apiKey.name}' (${apiKey.role}) created. It is shown only this once; ` +
            'send it in the x-api-key header or set TAPLINE_API_KEY.',
        );
      } finally {
        await close();
      }
    });

  key
    .command('list')
    .description('list API keys: names, roles, when created and last used')
    .option(...dataDirOption)
    .action(async (flags: KeyFlags, command: Command) => {
      const { out } = commandContext(command);
      const { keys, close } = await openKeys(flags.dataDir);
      try {
        const listed = await keys.list();
        if (out.json) return out.printJson(listed);
        if (listed.length === 0)
          return out.line('no API keys; the API is open to anyone who reaches it');
        printTable(
          out,
          ['NAME', 'ROLE', 'CREATED', 'LAST USED'],
          listed.map((k) => [k.name, k.role, k.createdAt, k.lastUsedAt ?? 'never']),
        );
      } finally {
        await close();
      }
    });

  key
    .command('revoke')
    .description('revoke an API key at once')
    .argument('<name>', 'the key name')
    .option(...dataDirOption)
    .action(async (name: string, flags: KeyFlags, command: Command) => {
      const { out } = commandContext(command);
      const { keys, close } = await openKeys(flags.dataDir);
      try {
        if (!(await keys.revoke(name)))
          throw new CliError('not_found', `no API key named '${name}'`);
        if (out.json) return out.printJson({ revoked: name });
        out.line(`API key '${name}' revoked`);
      } finally {
        await close();
      }
    });
}
