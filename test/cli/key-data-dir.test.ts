import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, startCliServer } from './cli-process.js';

// The key commands open the server's database directly; run in the wrong directory they once
// made an empty ./.tapline there and answered "no API keys".
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-key-dir-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const pointAt =
  "point the command at the server's data directory with --data-dir or TAPLINE_DATA_DIR";

it('refuses every key command on the default data directory when it does not exist', async () => {
  const cwd = path.join(scratch, 'elsewhere');
  mkdirSync(cwd);
  const missing =
    `tapline: the data directory ${path.join(cwd, '.tapline')} (the default, .tapline under ` +
    `the current directory) does not exist; ${pointAt}\n`;

  for (const args of [
    ['key', 'list'],
    ['key', 'revoke', 'ci'],
    ['key', 'create', 'ci', '--role', 'admin'],
  ]) {
    expect(await runCli(args, {}, '', cwd)).toEqual({ code: 1, stdout: '', stderr: missing });
  }
  expect(readdirSync(cwd)).toEqual([]);
});

it('refuses to list or revoke keys in a directory that is missing or holds no database', async () => {
  const missing = path.join(scratch, 'typo');
  expect(await runCli(['key', 'list'], { TAPLINE_DATA_DIR: missing })).toEqual({
    code: 1,
    stdout: '',
    stderr: `tapline: the data directory ${missing} does not exist; ${pointAt}\n`,
  });
  expect(existsSync(missing)).toBe(false);

  const empty = path.join(scratch, 'empty');
  mkdirSync(empty);
  expect(await runCli(['key', 'revoke', 'ci', '--data-dir', empty])).toEqual({
    code: 1,
    stdout: '',
    stderr:
      `tapline: ${empty} holds no tapline database (tapline.db), so it is not a server's ` +
      `data directory; ${pointAt}\n`,
  });
  expect(readdirSync(empty)).toEqual([]);

  const json = await runCli(['key', 'list', '--json', '--data-dir', missing]);
  expect(json.code).toBe(1);
  expect(JSON.parse(json.stdout).error.code).toBe('no_data_dir');
});

it('makes a data directory it is given, so the first key exists before the server starts', async () => {
  const dataDir = path.join(scratch, 'fresh', 'data');
  const created = await runCli(['key', 'create', 'ci', '--role', 'admin', '--data-dir', dataDir]);
  expect(created.code).toBe(0);
  const key = created.stdout.trim();
  expect(key).toMatch(/^tl_/);

  const listed = await runCli(['key', 'list', '--json'], { TAPLINE_DATA_DIR: dataDir });
  expect(JSON.parse(listed.stdout).map((k: { name: string }) => k.name)).toEqual(['ci']);

  // The server started on that directory later needs the key from its first request.
  const server = await startCliServer({ dataDir });
  try {
    expect((await runCli(['tap', 'list'], { TAPLINE_URL: server.url })).code).toBe(1);
    const withKey = await runCli(['tap', 'list'], {
      TAPLINE_URL: server.url,
      TAPLINE_API_KEY: key,
    });
    expect(withKey.code).toBe(0);
  } finally {
    await server.stop();
  }
});
