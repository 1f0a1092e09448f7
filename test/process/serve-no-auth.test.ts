import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { freePort, healthy, type ServeChild, spawnServe } from '../support/server-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = ['--import', import.meta.resolve('tsx'), path.join(root, 'src/cli/main.ts')];
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-no-auth-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const refusal =
  'refusing to listen on 0.0.0.0 without an API key: anyone who reaches it could run code';

/** An environment without the developer's TAPLINE_* settings. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('TAPLINE_')) delete env[name];
  return { ...env, TAPLINE_LOG_LEVEL: 'info', ...extra };
}

function serve(args: string[], env: Record<string, string> = {}): ServeChild {
  return spawnServe(args, { cwd: scratch, env: cleanEnv(env) });
}

async function stop(served: ServeChild) {
  served.child.kill('SIGTERM');
  return served.exited;
}

it('refuses 0.0.0.0 without a key, exits 1, and leaves no data directory behind', async () => {
  const dataDir = path.join(scratch, 'fresh', 'data');
  const served = serve([
    '--host',
    '0.0.0.0',
    '--port',
    String(await freePort()),
    '--data-dir',
    dataDir,
  ]);
  expect(await served.exited).toBe(1);
  expect(served.output()).toContain(refusal);
  expect(served.output()).toContain('--allow-no-auth');
  expect(existsSync(path.join(scratch, 'fresh'))).toBe(false);
});

it('refuses 0.0.0.0 on an existing data directory that has no key', async () => {
  const dataDir = path.join(scratch, 'existing');
  const port = await freePort();
  const first = serve(['--port', String(port), '--data-dir', dataDir]);
  expect(await healthy(first, port)).toBe(true);
  expect(await stop(first)).toBe(0);

  const served = serve(['--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir]);
  expect(await served.exited).toBe(1);
  expect(served.output()).toContain(refusal);
});

it('listens on 0.0.0.0 with --allow-no-auth', async () => {
  const port = await freePort();
  const dataDir = path.join(scratch, 'allowed');
  const served = serve([
    '--host',
    '0.0.0.0',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
    '--allow-no-auth',
  ]);
  expect(await healthy(served, port)).toBe(true);
  expect((await fetch(`http://127.0.0.1:${port}/api/v1/taps`)).status).toBe(200);
  expect(await stop(served)).toBe(0);
});

it('listens on 0.0.0.0 with TAPLINE_API_KEY set, and asks for the key', async () => {
  const port = await freePort();
  const dataDir = path.join(scratch, 'keyed');
  const served = serve(['--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir], {
    TAPLINE_API_KEY: 'ci-admin-key-0123456789',
  });
  expect(await healthy(served, port)).toBe(true);
  const url = `http://127.0.0.1:${port}/api/v1/taps`;
  expect((await fetch(url)).status).toBe(401);
  const withKey = await fetch(url, { headers: { 'x-api-key': 'ci-admin-key-0123456789' } });
  expect(withKey.status).toBe(200);
  expect(await stop(served)).toBe(0);
});

it('listens on 0.0.0.0 once a stored key exists', async () => {
  const dataDir = path.join(scratch, 'stored-key');
  const created = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(
      process.execPath,
      [...cli, 'key', 'create', 'ops', '--role', 'admin', '--data-dir', dataDir],
      { env: cleanEnv() },
      (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
    ),
  );
  expect(created.code).toBe(0);
  const port = await freePort();
  const served = serve(['--host', '0.0.0.0', '--port', String(port), '--data-dir', dataDir]);
  expect(await healthy(served, port)).toBe(true);
  expect((await fetch(`http://127.0.0.1:${port}/api/v1/taps`)).status).toBe(401);
  expect(await stop(served)).toBe(0);
});

it('treats an IPv4-mapped loopback address as loopback', async () => {
  const port = await freePort();
  const dataDir = path.join(scratch, 'mapped');
  const served = serve([
    '--host',
    '::ffff:127.0.0.1',
    '--port',
    String(port),
    '--data-dir',
    dataDir,
  ]);
  expect(await healthy(served, port)).toBe(true);
  expect(served.output()).not.toContain('refusing');
  expect(await stop(served)).toBe(0);
});
