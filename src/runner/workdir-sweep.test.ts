import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { removeOrphanWorkdirs, workdirPrefix } from './workdir-sweep.js';

const isRoot = process.getuid?.() === 0;

// Each test sweeps a folder of its own, never the real temp folder other processes use.
let tempDir: string;
beforeEach(() => {
  tempDir = mkdtempSync(path.join(tmpdir(), 'tapline-sweep-test-'));
});
afterEach(() => rmSync(tempDir, { recursive: true, force: true }));

function startNode(code: string): ChildProcess {
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

/** The pid of a process that has run and exited. */
async function deadPid(): Promise<number> {
  const child = startNode('');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function makeRunDir(name: string): string {
  const directory = path.join(tempDir, name);
  mkdirSync(path.join(directory, 'cache'), { recursive: true });
  writeFileSync(path.join(directory, 'tap.py'), 'def fetch():\n    return []\n');
  writeFileSync(path.join(directory, 'cache', 'page-1.json'), '{}');
  return directory;
}

it('removes the run directories of a process that has exited, with what is in them', async () => {
  const pid = await deadPid();
  makeRunDir(`tapline-run-${pid}-a1B2c3`);
  makeRunDir(`tapline-run-${pid}-Zz9yX8`);

  expect(await removeOrphanWorkdirs(tempDir)).toEqual({ removed: 2, failed: [] });
  expect(readdirSync(tempDir)).toEqual([]);
});

it('keeps the run directories of live processes: this one and a running child', async () => {
  const child = startNode('setTimeout(() => {}, 60_000)');
  try {
    makeRunDir(`tapline-run-${process.pid}-a1B2c3`);
    makeRunDir(`tapline-run-${child.pid}-d4E5f6`);

    expect(await removeOrphanWorkdirs(tempDir)).toEqual({ removed: 0, failed: [] });
    expect(readdirSync(tempDir).sort()).toEqual(
      [`tapline-run-${child.pid}-d4E5f6`, `tapline-run-${process.pid}-a1B2c3`].sort(),
    );
  } finally {
    child.kill('SIGKILL');
  }
});

it('keeps what is not a run directory with a pid, next to one it removes', async () => {
  const pid = await deadPid();
  makeRunDir(`tapline-run-${pid}-a1B2c3`);
  // Another program's folder, a run directory named before the pid was added, a file that
  // looks like a run directory, and a name with a pid but another prefix.
  mkdirSync(path.join(tempDir, 'other-program'));
  makeRunDir('tapline-run-zv41vJ');
  writeFileSync(path.join(tempDir, `tapline-run-${pid}-g7H8i9`), 'not a directory');
  makeRunDir(`tapline-crash-${pid}-j1K2l3`);

  expect(await removeOrphanWorkdirs(tempDir)).toEqual({ removed: 1, failed: [] });
  expect(readdirSync(tempDir).sort()).toEqual([
    'other-program',
    `tapline-crash-${pid}-j1K2l3`,
    `tapline-run-${pid}-g7H8i9`,
    'tapline-run-zv41vJ',
  ]);
});

it('names this process in its run directories, so a sweep keeps them', async () => {
  const directory = mkdtempSync(path.join(tempDir, workdirPrefix()));
  expect(path.basename(directory)).toMatch(new RegExp(`^tapline-run-${process.pid}-\\w{6}$`));

  expect(await removeOrphanWorkdirs(tempDir)).toEqual({ removed: 0, failed: [] });
  expect(readdirSync(tempDir)).toEqual([path.basename(directory)]);
});

it('answers a missing folder with nothing removed', async () => {
  const missing = path.join(tempDir, 'gone');
  expect(await removeOrphanWorkdirs(missing)).toEqual({ removed: 0, failed: [] });
});

// Only root can give a directory to another user.
it.skipIf(!isRoot)("leaves another user's run directories to that user's servers", async () => {
  const pid = await deadPid();
  const directory = makeRunDir(`tapline-run-${pid}-a1B2c3`);
  chownSync(directory, 65534, 65534);

  expect(await removeOrphanWorkdirs(tempDir)).toEqual({ removed: 0, failed: [] });
  expect(readdirSync(tempDir)).toEqual([`tapline-run-${pid}-a1B2c3`]);
});

// Root removes a directory whatever its mode, so this failure needs another user.
it.skipIf(isRoot)('returns a directory it cannot remove, and goes on to the next', async () => {
  const pid = await deadPid();
  const stuck = makeRunDir(`tapline-run-${pid}-a1B2c3`);
  makeRunDir(`tapline-run-${pid}-d4E5f6`);
  chmodSync(path.join(stuck, 'cache'), 0o500);
  try {
    const sweep = await removeOrphanWorkdirs(tempDir);

    expect(sweep.removed).toBe(1);
    expect(sweep.failed).toEqual([{ directory: stuck, error: expect.stringMatching(/EACCES/) }]);
    expect(readdirSync(tempDir)).toEqual([`tapline-run-${pid}-a1B2c3`]);
  } finally {
    chmodSync(path.join(stuck, 'cache'), 0o700);
  }
});
