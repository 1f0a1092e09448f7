import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { roles } from '../../auth/key-service.js';
import type { Role } from '../../store/store.js';
import { cliError } from '../cli-errors.js';
import { commandContext } from '../command-context.js';
import { printTable } from '../table.js';
import { dataDirLayout } from '../../config/data-dir-layout.js';
import { TaplineError } from '../../errors/catalogue.js';

interface KeyFlags {
  role?: string;
  dataDir?: string;
}

/** As config.ts has it: ./.tapline under the directory the command runs in. */
const defaultDataDir = '.tapline';

/**
 * Keys are managed on the server's own machine, against its data directory, not over HTTP:
 * the first key cannot be created by a caller who would need a key to ask for it.
 *
 * Opening the store creates its database, so a command run in the wrong directory would make
 * an empty ./.tapline the server never reads and report that it has no keys. Listing and
 * revoking therefore need an existing database. Creating may make a data directory that is
 * named (flag, TAPLINE_DATA_DIR or tapline.yaml), so the first key can exist before the
 * server first starts. It makes nothing at the default, which is only where the command ran.
 */
async function openKeys(dataDir: string | undefined, { create }: { create: boolean }) {
  const [{ loadConfig }, { openSqliteStore }, { KeyService }] = await Promise.all([
    import('../../config/config.js'),
    import('../../store/sqlite/sqlite-store.js'),
    import('../../auth/key-service.js'),
  ]);
  const config = loadConfig({ overrides: { dataDir } });
  const named =
    dataDir !== undefined ||
    Boolean(process.env.TAPLINE_DATA_DIR) ||
    config.dataDir !== path.resolve(defaultDataDir);
  checkDataDir(config.dataDir, { mayCreate: create && named, named });
  const store = openSqliteStore(config.dataDir);
  return { keys: new KeyService(store, undefined), close: () => store.close() };
}

/** Throws unless `dir` holds the server's database, or it may be made there. */
function checkDataDir(dir: string, { mayCreate, named }: { mayCreate: boolean; named: boolean }) {
  if (!existsSync(dir)) {
    if (mayCreate) return;
    const which = named ? '' : ' (the default, .tapline under the current directory)';
    throw cliError('no_data_dir', `the data directory ${dir}${which} does not exist`);
  }
  if (!statSync(dir).isDirectory()) {
    throw cliError('no_data_dir', `the data directory ${dir} is not a directory`);
  }
  if (!mayCreate && !existsSync(path.join(dir, dataDirLayout.metadata))) {
    throw cliError(
      'no_data_dir',
      `${dir} holds no tapline database (${dataDirLayout.metadata}), so it is not a server's data ` +
        'directory',
    );
  }
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
        throw cliError('usage', `--role must be one of ${roles.join(', ')}, not '${flags.role}'`);
      }
      const { keys, close } = await openKeys(flags.dataDir, { create: true });
      try {
        if ((await keys.list()).some((existing) => existing.name === name)) {
          throw cliError('key_exists', name);
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
      const { keys, close } = await openKeys(flags.dataDir, { create: false });
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
      const { keys, close } = await openKeys(flags.dataDir, { create: false });
      try {
        if (!(await keys.revoke(name)))
          throw new TaplineError('not_found', `no API key named '${name}'`);
        if (out.json) return out.printJson({ revoked: name });
        out.line(`API key '${name}' revoked`);
      } finally {
        await close();
      }
    });
}
