import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScriptRunRequest } from './script-run.js';
import { runScript } from './spawn.js';

const python = process.env.TAPLINE_PYTHON ?? 'python3';
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-limits-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(script: string, overrides: Partial<ScriptRunRequest> = {}) {
  return runScript({
    script,
    kind: 'structured',
    mode: 'test',
    params: {},
    state: undefined,
    secretEnv: {},
    testLimit: 20,
    timeoutSeconds: 30,
    python,
    logBytes: 1024 * 1024,
    maxRecordBytes: 16 * 1024 * 1024,
    memoryBytes: 2 * 1024 * 1024 * 1024,
    ...overrides,
  });
}

/** Command lines of running processes that contain `marker`. */
function processesWith(marker: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return table
    .split('\n')
    .filter((line) => line.includes(marker))
    .filter((line) => !/^\s*\d+\s+Z/.test(line));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A unique extra argument for `sleep 600`: GNU sleep adds its arguments up. */
function uniqueSleepArg(): string {
  return `0.${process.pid}${Date.now() % 100_000}1`;
}

describe('runScript: wall-clock timeout', () => {
  it('kills the script and the child it started, naming the limit', async () => {
    const marker = uniqueSleepArg();
    const pidPath = path.join(scratch, 'timeout-pid');
    const result = await run(
      `
import os, subprocess, time

def fetch():
    with open(os.environ["TAP_PARAM_pid_path"], "w") as out:
        out.write(str(os.getpid()))
    subprocess.Popen(["sleep", "600", os.environ["TAP_PARAM_marker"]])
    time.sleep(600)
    return []
`,
      { timeoutSeconds: 2, params: { marker, pid_path: pidPath } },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('timeout');
    expect(result.error).toBe(
      'the script ran longer than its 2 s timeout and was stopped, with every process it ' +
        "started; raise the limit with the tap's timeoutSeconds, or runner.testTimeoutSeconds " +
        'in tapline.yaml',
    );
    expect(result.durationMs).toBeGreaterThanOrEqual(2000);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(processesWith(marker)).toEqual([]);
    expect(isAlive(Number(readFileSync(pidPath, 'utf8')))).toBe(false);
  });

  it("names only the tap's timeoutSeconds when the tap set its own", async () => {
    const result = await run('import time\n\ndef fetch():\n    time.sleep(600)\n', {
      timeoutSeconds: 1,
      timeoutSource: 'tap',
    });
    expect(result.failureKind).toBe('timeout');
    expect(result.error).toBe(
      'the script ran longer than its 1 s timeout and was stopped, with every process it ' +
        "started; the limit is the tap's own timeoutSeconds (1 s), which replaces tapline's " +
        "test-mode default for this tap: raise the tap's timeoutSeconds, or fetch less per run",
    );
  });

  it('names runner.runTimeoutSeconds in run mode', async () => {
    const result = await run('import time\n\ndef fetch():\n    time.sleep(600)\n', {
      mode: 'run',
      timeoutSeconds: 1,
    });
    expect(result.failureKind).toBe('timeout');
    expect(result.error).toContain('runner.runTimeoutSeconds in tapline.yaml');
  });

  it('leaves no background child of a successful script behind', async () => {
    const marker = uniqueSleepArg();
    const result = await run(
      `
import os, subprocess

def fetch():
    subprocess.Popen(["sleep", "600", os.environ["TAP_PARAM_marker"]])
    return [{"a": 1}]
`,
      { params: { marker } },
    );
    expect(result.outcome).toBe('success');
    expect(processesWith(marker)).toEqual([]);
  });

  it('does not wait for a child that keeps the log pipe open', async () => {
    const marker = uniqueSleepArg();
    const result = await run(
      `
import os, subprocess

def fetch():
    # A new session escapes the process group, and the child inherits stdout.
    subprocess.Popen(["sleep", "600", os.environ["TAP_PARAM_marker"]], start_new_session=True)
    return [{"a": 1}]
`,
      { params: { marker } },
    );
    expect(result.outcome).toBe('success');
    expect(result.durationMs).toBeLessThan(5000);
    for (const line of processesWith(marker)) {
      process.kill(Number(line.trim().split(/\s+/)[0]), 'SIGKILL');
    }
  });
});

describe('runScript: after the report', () => {
  it('does not wait for a thread the script left running', async () => {
    const result = await run(`
import threading, time

def fetch():
    threading.Thread(target=time.sleep, args=(600,)).start()
    return [{"a": 1}]
`);
    expect(result.outcome).toBe('success');
    expect(result.records).toEqual([{ a: 1 }]);
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('still reports when the script closed sys.stdout', async () => {
    const result = await run(
      'import sys\n\ndef fetch():\n    sys.stdout.close()\n    return [{"a": 1}]\n',
    );
    expect(result.outcome).toBe('success');
    expect(result.recordCount).toBe(1);
  });
});

describe('runScript: memory and record size', () => {
  it('reports running out of memory with the limit and how to raise it', async () => {
    const result = await run(
      `
def fetch():
    records = []
    while True:
        records.append("x" * 1_000_000)
`,
      { memoryBytes: 256 * 1024 * 1024 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('memory_limit');
    expect(result.error).toBe(
      'the script ran out of memory: it may use at most 256 MiB (268435456 bytes) ' +
        '(runner.memoryBytes in tapline.yaml). Yield records one at a time from a generator ' +
        'instead of building a list of them, or raise runner.memoryBytes',
    );
  });

  it('fails a record larger than maxRecordBytes, naming the limit', async () => {
    const result = await run(
      'def fetch():\n    yield {"a": 1}\n    yield {"blob": "x" * 5000}\n    yield {"a": 3}\n',
      { maxRecordBytes: 1000 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('record_too_large');
    expect(result.error).toBe(
      'record 2 is 5011 bytes as JSON, over the largest single record allowed (1000 bytes); ' +
        'split it into smaller records, or raise runner.maxRecordBytes in tapline.yaml',
    );
    expect(result.records).toEqual([{ a: 1 }]);
  });

  it('checks record size itself when something bypasses the harness', async () => {
    const result = await run(
      'import os\n\ndef fetch():\n    os.write(3, b"{" + b" " * 5000)\n    return []\n',
      { maxRecordBytes: 1000 },
    );
    expect(result.failureKind).toBe('record_too_large');
    expect(result.error).toMatch(
      /^record 1 is at least \d+ bytes as JSON, over the largest single record allowed \(1000 bytes\)/,
    );
  });

  it('counts record lines itself rather than trusting the harness', async () => {
    const result = await run(
      'import os\n\ndef fetch():\n    os.write(3, b\'{"x": 1}\\n\')\n    return []\n',
    );
    expect(result.failureKind).toBe('bad_output');
    expect(result.recordCount).toBe(1);
    expect(result.error).toBe(
      'the harness wrote 0 records but the record pipe carried 1; something else in the ' +
        'script wrote to the record pipe (fd 3)',
    );
  });
});

describe('runScript: log cap', () => {
  it('keeps the head and the tail of long logs with a line saying how much was cut', async () => {
    const result = await run(
      'def fetch():\n    for i in range(20_000):\n        print("line", i)\n    return []\n',
      { logBytes: 1000 },
    );
    expect(result.outcome).toBe('success');
    const lines = result.logs.split('\n');
    expect(lines[0]).toBe('line 0');
    expect(lines.at(-2)).toBe('line 19999');
    expect(lines.at(-1)).toBe('');
    const cutLine = lines.find((line) => line.includes('bytes of logs cut here'));
    const cut = Number(/^\[\.\.\. (\d+) bytes of logs cut here \.\.\.\]$/.exec(cutLine!)![1]);
    // Every printed byte is either kept or counted as cut.
    const printed = Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join('').length;
    expect(Buffer.byteLength(result.logs) - cutLine!.length - 1 + cut).toBe(printed);
    expect(Buffer.byteLength(result.logs)).toBeLessThanOrEqual(1000);
  });

  it('stays correct when a script prints far more than the cap', async () => {
    const result = await run(
      `
import sys

def fetch():
    chunk = "y" * 1_000_000 + "\\n"
    # 20 MB: far past the cap, within the default runner.maxOutputBytes (64 MiB).
    for _ in range(20):
        sys.stdout.write(chunk)
    print("the end")
    return [{"a": 1}]
`,
      { logBytes: 4096 },
    );
    expect(result.outcome).toBe('success');
    expect(result.logs).toContain('bytes of logs cut here');
    expect(result.logs.endsWith('the end\n')).toBe(true);
    expect(Buffer.byteLength(result.logs)).toBeLessThanOrEqual(4096);
  });
});

describe('runScript: run mode', () => {
  it('streams exact NDJSON to the staging file and keeps no records in memory', async () => {
    const stagingPath = path.join(scratch, 'run.ndjson');
    const result = await run(
      `
def fetch():
    yield {"id": 1, "name": "café"}
    yield {"id": 2033735037361704962, "tags": ["a", "b"]}
    yield {"id": 3, "nested": {"ok": True, "none": None}}
`,
      { mode: 'run', stagingPath },
    );
    const expected =
      '{"id":1,"name":"café"}\n' +
      '{"id":2033735037361704962,"tags":["a","b"]}\n' +
      '{"id":3,"nested":{"ok":true,"none":null}}\n';
    expect(result.outcome).toBe('success');
    expect(result.records).toEqual([]);
    expect(result.recordCount).toBe(3);
    expect(result.columns).toEqual(['id', 'name', 'tags', 'nested']);
    expect(result.dataType).toBe('json');
    expect(readFileSync(stagingPath, 'utf8')).toBe(expected);
    expect(result.stagedBytes).toBe(Buffer.byteLength(expected));
    expect(statSync(stagingPath).size).toBe(result.stagedBytes);
  });

  it('runs past any test limit and stages many records', async () => {
    const stagingPath = path.join(scratch, 'many.ndjson');
    const result = await run('def fetch():\n    return ({"i": i} for i in range(200_000))\n', {
      mode: 'run',
      stagingPath,
      testLimit: 20,
    });
    expect(result.recordCount).toBe(200_000);
    expect(result.recordsTruncated).toBe(false);
    const lines = readFileSync(stagingPath, 'utf8').split('\n');
    expect(lines).toHaveLength(200_001);
    expect(lines[199_999]).toBe('{"i":199999}');
  });

  it('counts records without a staging path', async () => {
    const result = await run('def fetch():\n    return [{"a": 1}, {"a": 2}]\n', { mode: 'run' });
    expect(result.recordCount).toBe(2);
    expect(result.records).toEqual([]);
    expect(result.stagedBytes).toBe(0);
  });
});

describe('runScript: abort', () => {
  it('stops the script when the signal aborts', async () => {
    const controller = new AbortController();
    const cwdPath = path.join(scratch, 'abort-cwd');
    setTimeout(() => controller.abort(), 1000);
    const result = await run(
      `
import os, time

def fetch():
    with open(os.environ["TAP_PARAM_cwd_path"], "w") as out:
        out.write(os.getcwd())
    time.sleep(600)
`,
      { signal: controller.signal, params: { cwd_path: cwdPath } },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('aborted');
    expect(result.durationMs).toBeLessThan(5000);
    expect(existsSync(readFileSync(cwdPath, 'utf8'))).toBe(false);
  });

  it('stops a run aborted while it was being set up, before Python started', async () => {
    const controller = new AbortController();
    const running = run('import time\n\ndef fetch():\n    time.sleep(600)\n', {
      signal: controller.signal,
      timeoutSeconds: 10,
    });
    controller.abort();
    const result = await running;
    expect(result.failureKind).toBe('aborted');
    expect(result.durationMs).toBeLessThan(5000);
  });

  it('does not start a run whose signal has already aborted', async () => {
    const result = await run('def fetch():\n    return []\n', { signal: AbortSignal.abort() });
    expect(result.failureKind).toBe('aborted');
  });
});
