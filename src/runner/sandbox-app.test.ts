/**
 * The must-show through the whole app: seven hostile taps run at once through
 * POST /api/v1/tap/run, each answered as a failure naming its limit and setting, while /healthz
 * keeps answering quickly, and no process of theirs is left afterwards.
 */

import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/support/test-app.js';

const mib = 1024 * 1024;
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-sandbox-app-test-'));

/** Each tap, and words its error must contain (the failure kind is not in the API answer). */
const taps: Record<string, { script: string; says: string[] }> = {
  'fork-bomb': {
    script: 'import os\n\ndef fetch():\n    while True:\n        os.fork()\n',
    says: ['more than 20 processes', 'runner.maxProcesses'],
  },
  'eight-gigabytes': {
    script:
      'def fetch():\n    records = []\n    for _ in range(8 * 1024):\n' +
      '        records.append(bytearray(1024 * 1024))\n    return records\n',
    says: ['ran out of memory', 'Yield records', 'runner.memoryBytes'],
  },
  'fill-disk': {
    script:
      'import itertools\n\ndef fetch():\n    for n in itertools.count():\n' +
      '        with open("part-%d" % n, "wb") as out:\n            out.write(b"x" * 262144)\n',
    says: ['more than 20 MiB', 'working directory', 'runner.maxWorkdirBytes'],
  },
  // Stopped by runner.maxLogLineBytes at its 1 MiB default, long before the 4 MiB in all.
  'long-line': {
    script:
      'import sys, time\n\ndef fetch():\n    sys.stdout.write("x" * 10_000_000 + "\\n")\n' +
      '    time.sleep(600)\n',
    says: ['a single line longer than 1 MiB (1048576 bytes)', 'runner.maxLogLineBytes'],
  },
  chatty: {
    script:
      'import time\n\ndef fetch():\n    for n in range(1_000_000):\n' +
      '        print("page", n, "x" * 100)\n    time.sleep(600)\n',
    says: ['printed more than 4 MiB', 'runner.maxOutputBytes'],
  },
  'huge-record': {
    script: 'def fetch():\n    yield {"blob": "x" * 20_000_000}\n',
    says: ['record 1 is 20000011 bytes', 'runner.maxRecordBytes'],
  },
  'busy-loop': {
    script: 'def fetch():\n    while True:\n        pass\n',
    says: ['2 s of CPU time', 'runner.cpuSeconds'],
  },
};

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp({
    runner: {
      maxConcurrentRuns: 7,
      maxProcesses: 20,
      memoryBytes: 512 * mib,
      maxWorkdirBytes: 20 * mib,
      maxOutputBytes: 4 * mib,
      cpuSeconds: 2,
      testTimeoutSeconds: 30,
    },
  });
  for (const [index, [name, tap]] of Object.entries(taps).entries()) {
    const script = cwdPrelude(cwdFiles[index]!) + tap.script;
    const saved = await test.call('PUT', `/api/v1/taps/${name}`, { script });
    expect(saved.status).toBeLessThan(300);
  }
});
afterAll(async () => {
  await test.close();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * Live processes whose working directory is one of these runs'. Each script is started by a
 * prelude that saves its working directory; other test files run scripts at the same time, so
 * "any tapline run directory" would count theirs too.
 */
const cwdFiles = Object.keys(taps).map((name) => path.join(scratch, `${name}.cwd`));
const cwdPrelude = (file: string) =>
  `import os\nwith open(${JSON.stringify(file)}, "w") as _out:\n    _out.write(os.getcwd())\n`;

function processesOfTheseRuns(): number[] {
  const dirs = new Set(cwdFiles.map((file) => readFileSync(file, 'utf8')));
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const cwd = readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, '');
        const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
        return dirs.has(cwd) && state !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

it('fails seven hostile taps by their limits while /healthz keeps answering', async () => {
  const healthTimes: number[] = [];
  let running = true;
  const health = (async () => {
    while (running) {
      const start = performance.now();
      expect((await test.call('GET', '/healthz')).status).toBe(200);
      healthTimes.push(performance.now() - start);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();

  const names = Object.keys(taps);
  const answers = await Promise.all(
    names.map((name) => test.call('POST', '/api/v1/tap/run', { name, mode: 'test' })),
  );
  running = false;
  await health;

  for (const [index, name] of names.entries()) {
    const answer = answers[index]!;
    expect(answer.status, name).toBe(200);
    expect(answer.body.status, name).toBe('failure');
    for (const words of taps[name]!.says) expect(answer.body.error, name).toContain(words);
    const stored = await test.call('GET', `/api/v1/runs/${answer.body.runId}`);
    expect(stored.body.status, name).toBe('failure');
  }
  expect(healthTimes.length).toBeGreaterThan(10);
  expect(Math.max(...healthTimes)).toBeLessThan(500);
  expect(processesOfTheseRuns()).toEqual([]);
});
