import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { api, freePort, startServerProcess } from '../support/server-process.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-sweep-data-'));
// The servers' TMPDIR: their run directories go here, away from the real temp folder.
const tempDir = mkdtempSync(path.join(tmpdir(), 'tapline-sweep-tmp-'));
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(tempDir, { recursive: true, force: true });
});

async function waitFor<T>(find: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it('a server started after one killed mid-run removes the run directory the dead one left', async () => {
  const port = await freePort();
  const env = { TMPDIR: tempDir };
  const first = await startServerProcess(dataDir, port, env);
  await api(first.url, 'POST', '/taps', {
    name: 'slow',
    script: `import os, time
def fetch():
    with open("script.pid", "w") as file:
        file.write(str(os.getpid()))
    time.sleep(60)
    return []
`,
  });
  const running = api(first.url, 'POST', '/tap/run', { name: 'slow', mode: 'test' }).catch(
    () => 'connection lost',
  );
  const prefix = `tapline-run-${first.child.pid}-`;
  const pidFile = await waitFor(() => {
    const name = readdirSync(tempDir).find((entry) => entry.startsWith(prefix));
    const file = name && path.join(tempDir, name, 'script.pid');
    return file && existsSync(file) && readFileSync(file, 'utf8') ? file : undefined;
  });

  first.child.kill('SIGKILL');
  await first.exited;
  expect(await running).toBe('connection lost');
  // The script outlives the server that ran it; end its process group as a cgroup would.
  process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
  const runDir = path.dirname(pidFile);
  expect(existsSync(runDir)).toBe(true);

  // A directory of a live process (this test's) must stay.
  const liveDir = path.join(tempDir, `tapline-run-${process.pid}-a1B2c3`);
  mkdirSync(liveDir);

  const second = await startServerProcess(dataDir, port, env);
  try {
    // tsx keeps its cache in TMPDIR too.
    const runDirs = readdirSync(tempDir).filter((entry) => entry.startsWith('tapline-run-'));
    expect(runDirs).toEqual([path.basename(liveDir)]);
    const swept = second
      .output()
      .split('\n')
      .filter((line) => line.includes('removed working directories'))
      .map((line) => JSON.parse(line));
    expect(swept).toEqual([expect.objectContaining({ level: 30, directories: 1 })]);
  } finally {
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
