import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CliServer, runCli, startCliServer } from './cli-process.js';

let server: CliServer;
beforeAll(async () => {
  server = await startCliServer();
});
afterAll(async () => server.stop());

const asUser = (key: string | undefined, ...args: string[]) =>
  runCli(args, { TAPLINE_URL: server.url, ...(key ? { TAPLINE_API_KEY: key } : {}) });

it('creates a key once, turns authentication on, lists and revokes keys', async () => {
  expect((await asUser(undefined, 'tap', 'list')).code).toBe(0);

  const created = await runCli([
    'key',
    'create',
    'ci',
    '--role',
    'admin',
    '--data-dir',
    server.dataDir,
  ]);
  expect(created.code).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^tl_[A-Za-z0-9_-]{43}$/);
  expect(created.stderr).toContain('shown only this once');
  const again = await runCli([
    'key',
    'create',
    'ci',
    '--role',
    'admin',
    '--data-dir',
    server.dataDir,
  ]);
  expect(again).toEqual({
    code: 1,
    stdout: '',
    stderr:
      "tapline: an API key named 'ci' already exists; pick another name, or revoke it first " +
      '(tapline key revoke ci) to replace it\n',
  });

  const refused = await asUser(undefined, 'tap', 'list');
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('API key');
  expect((await asUser(key, 'tap', 'list')).code).toBe(0);

  const viewer = (
    await runCli(['key', 'create', 'dash', '--role', 'viewer', '--data-dir', server.dataDir])
  ).stdout.trim();
  const forbidden = await asUser(viewer, 'secret', 'set', 'stripe', 'KEY=abc');
  expect(forbidden.code).toBe(1);
  expect(forbidden.stderr).toContain('role viewer');

  const listed = await runCli(['key', 'list', '--json', '--data-dir', server.dataDir]);
  expect(
    JSON.parse(listed.stdout).map((k: { name: string; role: string }) => [k.name, k.role]),
  ).toEqual([
    ['ci', 'admin'],
    ['dash', 'viewer'],
  ]);
  expect(listed.stdout).not.toContain(key);

  expect(
    (await runCli(['key', 'create', 'x', '--role', 'root', '--data-dir', server.dataDir])).code,
  ).toBe(2);
  expect((await runCli(['key', 'revoke', 'dash', '--data-dir', server.dataDir])).code).toBe(0);
  expect((await asUser(viewer, 'tap', 'list')).code).toBe(1);
  expect((await runCli(['key', 'revoke', 'dash', '--data-dir', server.dataDir])).code).toBe(1);

  // Secrets, with the admin key: from arguments and from standard input, never shown back.
  const fromArgs = await asUser(
    key,
    'secret',
    'set',
    'stripe',
    'STRIPE_KEY=sk_live_9f8e7d6c5b4a',
    'MODE=live',
  );
  expect(fromArgs.code).toBe(0);
  expect(fromArgs.stdout).toContain("secret 'stripe' saved with STRIPE_KEY, MODE");
  const fromStdin = await runCli(
    ['secret', 'set', 'shop', '--stdin'],
    { TAPLINE_URL: server.url, TAPLINE_API_KEY: key },
    '# shop credentials\nSHOP_TOKEN=tok=with=equals\nSHOP_USER=ada\n',
  );
  expect(fromStdin.code).toBe(0);
  const list = await asUser(key, 'secret', 'list');
  expect(list.stdout).toContain('SHOP_TOKEN, SHOP_USER');
  expect(list.stdout + fromArgs.stdout).not.toContain('sk_live_9f8e7d6c5b4a');
  expect((await asUser(key, 'secret', 'set', 'bad', 'not-a-pair')).code).toBe(2);
  expect((await asUser(key, 'secret', 'rm', 'shop')).code).toBe(0);
  expect((await asUser(key, 'secret', 'rm', 'shop')).code).toBe(1);
});
