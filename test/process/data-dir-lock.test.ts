import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { api, freePort, startServerProcess } from '../support/server-process.js';

const root = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-lock-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function serveAgain(port: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        import.meta.resolve('tsx'),
        path.join(root, 'src/cli/main.ts'),
        'serve',
        '--port',
        String(port),
        '--data-dir',
        dataDir,
      ],
      { cwd: dataDir, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

it('refuses a second server on a data directory in use, leaving the first one’s runs alone', async () => {
  const first = await startServerProcess(dataDir, await freePort());
  try {
    await api(first.url, 'POST', '/taps', {
      name: 'slow',
      script: 'import time\ndef fetch():\n    time.sleep(2)\n    return [{"a": 1}]\n',
    });
    const running = api(first.url, 'POST', '/tap/run', { name: 'slow', mode: 'run' });

    const second = await serveAgain(await freePort());
    expect(second.code).toBe(1);
    expect(second.output).toContain(`another tapline server is using ${dataDir}`);
    expect(second.output).not.toContain('marked runs left running');

    const answer = (await running).body;
    expect(answer.status).toBe('success');
    expect((await api(first.url, 'GET', `/runs/${answer.runId}`)).body.status).toBe('success');
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }

  // Once the first has stopped, the directory is free again; also at once after a SIGKILL,
  // which leaves no chance to unlock.
  const third = await startServerProcess(dataDir, await freePort());
  third.child.kill('SIGKILL');
  await third.exited;
  const fourth = await startServerProcess(dataDir, await freePort());
  fourth.child.kill('SIGTERM');
  expect(await fourth.exited).toBe(0);
});
