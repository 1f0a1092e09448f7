/**
 * The sandbox limits against real hostile scripts: each ends as a failure whose message names
 * the limit and the setting that raises it, leaves no process behind, and never stalls Node's
 * event loop. Limits are configured small so each case takes a second or two.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MemoryCgroup } from './memory-cgroup.js';
import { openProcessLimit } from './process-limit.js';
import { removeCgroup } from './run-cgroups.js';
import type { ScriptRunRequest, ScriptRunResult } from './script-run.js';
import { runScript } from './spawn.js';

const python = process.env.TAPLINE_PYTHON ?? 'python3';
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-sandbox-test-'));
const mib = 1024 * 1024;

const probe = await openProcessLimit(1);
await probe.close();
const hasCgroup = probe.mechanism !== 'process-group';

/** The memory cgroup runs get here, if any; asked at test time, as the runner asks per run. */
async function memoryCgroup(): Promise<MemoryCgroup['mechanism'] | null> {
  const processes = await openProcessLimit(1);
  const memory = await MemoryCgroup.open(64 * mib, processes);
  await processes.close();
  await memory?.close();
  return memory?.mechanism ?? null;
}

/** This worker's run cgroups: the runner names them `<server pid>-<n>`. */
function ownCgroups(): string[] {
  const parents = [
    '/sys/fs/cgroup/pids/tapline',
    ...readCgroupV1Path('memory').map((own) => path.join('/sys/fs/cgroup/memory', own, 'tapline')),
    ...readCgroupV2Parent().map((own) => path.join('/sys/fs/cgroup', own, 'tapline')),
  ];
  return parents.flatMap((parent) => {
    try {
      return readdirSync(parent)
        .filter((name) => name.startsWith(`${process.pid}-`))
        .map((name) => path.join(parent, name));
    } catch {
      return [];
    }
  });
}

function readCgroupV1Path(controller: string): string[] {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[1]?.split(',').includes(controller));
  return line === undefined ? [] : [line.split(':').slice(2).join(':')];
}

function readCgroupV2Parent(): string[] {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('0::'));
  return line === undefined ? [] : [line.slice(3)];
}

afterEach(async () => {
  // A failed test must not leave a fork bomb or a cgroup behind for the next one.
  for (const dir of ownCgroups()) await removeCgroup(dir);
});
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
    maxRecordBytes: 16 * mib,
    memoryBytes: 2 * 1024 * mib,
    ...overrides,
  });
}

/**
 * Runs a script while a 10 ms timer ticks, and returns the longest gap between two ticks: a
 * server answering /healthz needs the event loop free the whole time.
 */
async function runWatchingLoop(
  script: string,
  overrides: Partial<ScriptRunRequest> = {},
): Promise<{ result: ScriptRunResult; longestGapMs: number }> {
  let last = performance.now();
  let longestGapMs = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
  }, 10);
  try {
    const result = await run(script, overrides);
    longestGapMs = Math.max(longestGapMs, performance.now() - last);
    return { result, longestGapMs };
  } finally {
    clearInterval(ticker);
  }
}

/** Live processes whose working directory is `dir` (the run's, which a script reports). */
function processesIn(dir: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = readlinkSync(`/proc/${name}/cwd`).replace(/ \(deleted\)$/, '');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cwd === dir && state !== 'Z') found.push(Number(name));
    } catch {
      // Gone while we looked.
    }
  }
  return found;
}

/** Command lines of live processes that contain `marker`. */
function processesWith(marker: string): string[] {
  const table = execFileSync('ps', ['-eo', 'pid=,stat=,args='], { encoding: 'utf8' });
  return table.split('\n').filter((line) => line.includes(marker) && !/^\s*\d+\s+Z/.test(line));
}

/** A script prelude that saves the run's working directory where the test can read it. */
function savingCwd(name: string): { prelude: string; cwd: () => string } {
  const file = path.join(scratch, name);
  return {
    prelude: `import os\nwith open(${JSON.stringify(file)}, "w") as _out:\n    _out.write(os.getcwd())\n`,
    cwd: () => readFileSync(file, 'utf8'),
  };
}

function expectNothingLeft(cwd: string): void {
  expect(processesIn(cwd)).toEqual([]);
  expect(ownCgroups()).toEqual([]);
}

describe('sandbox: how the tests look for leftovers', () => {
  it('finds the processes of a running script by its working directory', async () => {
    const saved = savingCwd('sanity-cwd');
    const running = run(`${saved.prelude}\nimport time\n\ndef fetch():\n    time.sleep(600)\n`, {
      timeoutSeconds: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processesIn(saved.cwd()).length).toBeGreaterThan(0);
    // A pids cgroup, and on cgroup v1 a memory cgroup beside it.
    const cgroups = (hasCgroup ? 1 : 0) + ((await memoryCgroup()) === 'cgroup-v1' ? 1 : 0);
    expect(ownCgroups()).toHaveLength(cgroups);
    expect((await running).failureKind).toBe('timeout');
    expectNothingLeft(saved.cwd());
  });
});

describe('sandbox: number of processes', () => {
  const message =
    'the script tried to run more than 20 processes and threads at once and was stopped, ' +
    'with every process it started; start fewer (a bounded pool of workers), or raise ' +
    'runner.maxProcesses in tapline.yaml';

  it('ends a fork bomb as a failure and leaves no process behind', async () => {
    const saved = savingCwd('fork-bomb-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
def fetch():
    while True:
        os.fork()
`,
      { maxProcesses: 20 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('process_limit');
    expect(result.error).toBe(message);
    expect(result.durationMs).toBeLessThan(5000);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('ends a fork bomb that survives failed forks', async () => {
    const saved = savingCwd('stubborn-bomb-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
def fetch():
    while True:
        try:
            os.fork()
        except OSError:
            pass
`,
      { maxProcesses: 20 },
    );
    expect(result.failureKind).toBe('process_limit');
    expect(result.error).toBe(message);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  // Without a cgroup a new session escapes the process group; process-group-watch.ts says so.
  it.skipIf(!hasCgroup)('kills a fork bomb that left the process group with setsid', async () => {
    const marker = `tapline-setsid-bomb-${process.pid}-${Date.now()}`;
    const result = await run(
      `
import os, subprocess, sys, time

BOMB = """
import os
os.setsid()
while True:
    try:
        os.fork()
    except OSError:
        pass
"""

def fetch():
    subprocess.Popen([sys.executable, "-c", BOMB, os.environ["TAP_PARAM_marker"]])
    time.sleep(600)
`,
      { maxProcesses: 20, params: { marker } },
    );
    expect(result.failureKind).toBe('process_limit');
    expect(result.error).toBe(message);
    expect(processesWith(marker)).toEqual([]);
    expect(ownCgroups()).toEqual([]);
  });

  it('lets a script with a few worker processes finish', async () => {
    const result = await run(
      `
from concurrent.futures import ProcessPoolExecutor

def square(n):
    return n * n

def fetch():
    with ProcessPoolExecutor(max_workers=4) as pool:
        return [{"n": n} for n in pool.map(square, range(8))]
`,
      { maxProcesses: 20 },
    );
    expect(result.outcome).toBe('success');
    expect(result.records.map((record) => record.n)).toEqual([0, 1, 4, 9, 16, 25, 36, 49]);
    expect(ownCgroups()).toEqual([]);
  });
});

describe('sandbox: memory', () => {
  it('ends a script allocating 8 GB, saying memory ran out and to yield records', async () => {
    const saved = savingCwd('memory-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
def fetch():
    records = []
    for _ in range(8 * 1024):
        records.append({"blob": bytearray(1024 * 1024)})
    return records
`,
      // The 2 GiB default works the same; a smaller limit saves touching 2 GB of pages.
      { memoryBytes: 512 * mib },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('memory_limit');
    expect(result.error).toBe(
      'the script ran out of memory: it may use at most 512 MiB (536870912 bytes) ' +
        '(runner.memoryBytes in tapline.yaml). Yield records one at a time from a generator ' +
        'instead of building a list of them, or raise runner.memoryBytes',
    );
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('keeps the limit when the script tries to lift it, then allocates 2.6 GB', async () => {
    const saved = savingCwd('memory-lift-cwd');
    // Under the 2 GiB default. The soft limit may rise only to the hard one, which leaves the
    // harness 32 MiB to report in; past that the allocation fails at once, no page touched.
    const result = await run(`${saved.prelude}
import resource

def fetch():
    try:
        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        print("lifted")
    except (ValueError, OSError):
        print("refused")
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    print("hard limit", hard)
    blob = b"x" * 2_600_000_000
    return [{"bytes": len(blob)}]
`);
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('memory_limit');
    expect(result.error).toBe(
      'the script ran out of memory: it may use at most 2 GiB (2147483648 bytes) ' +
        '(runner.memoryBytes in tapline.yaml). Yield records one at a time from a generator ' +
        'instead of building a list of them, or raise runner.memoryBytes',
    );
    expect(result.logs).toBe('refused\nhard limit 2181038080\n');
    expectNothingLeft(saved.cwd());
  });

  it('stops forked children that together pass the limit, each under it', async (context) => {
    context.skip(
      (await memoryCgroup()) === null,
      'no writable memory cgroup (v2 memory.max or the v1 memory controller) here: only the ' +
        'per-process limit applies, which each child keeps to',
    );
    const saved = savingCwd('memory-fork-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
import os, time

def fetch():
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            # 150 MB written, so every page is resident; well under the 256 MiB per process.
            blob = b"x" * 150_000_000
            time.sleep(60)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    return [{"children": len(children)}]
`,
      { memoryBytes: 256 * mib, timeoutSeconds: 30 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('memory_limit');
    expect(result.error).toBe(
      'the script ran out of memory: it may use at most 256 MiB (268435456 bytes) ' +
        '(runner.memoryBytes in tapline.yaml). Yield records one at a time from a generator ' +
        'instead of building a list of them, or raise runner.memoryBytes',
    );
    expect(result.durationMs).toBeLessThan(10_000);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('takes a capability from the harness and the programs it starts', async (context) => {
    // CAP_SYS_RESOURCE would let root lift any hard limit. Containers often start without it,
    // as this one may; CAP_NET_RAW stands in for it, through the harness's own function.
    const status = readFileSync('/proc/self/status', 'utf8');
    const bounding = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)![1]);
    context.skip(
      process.getuid?.() !== 0 || ((bounding >> 13n) & 1n) === 0n,
      'needs root with CAP_NET_RAW to stand in for CAP_SYS_RESOURCE',
    );
    const harnessDir = import.meta.dirname;
    const output = execFileSync(
      python,
      [
        '-c',
        `
import subprocess, sys
sys.path.insert(0, ${JSON.stringify(harnessDir)})
import harness
harness.CAP_SYS_RESOURCE = 13
harness.drop_resource_capability()
print(subprocess.run(["grep", "^Cap[PEB]", "/proc/self/status"], capture_output=True,
      text=True).stdout, end="")
`,
      ],
      { encoding: 'utf8' },
    );
    const sets = Object.fromEntries(
      output
        .trim()
        .split('\n')
        .map((line) => line.split(':\t'))
        .map(([name, hex]) => [name, (BigInt('0x' + hex) >> 13n) & 1n]),
    );
    expect(sets).toEqual({ CapPrm: 0n, CapEff: 0n, CapBnd: 0n });
  });
});

describe('sandbox: CPU seconds', () => {
  it('ends a busy loop that prints nothing once it has used its CPU seconds', async () => {
    const saved = savingCwd('cpu-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
def fetch():
    while True:
        pass
`,
      { cpuSeconds: 2, timeoutSeconds: 20 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('cpu_limit');
    expect(result.error).toBe(
      'the script used 2 s of CPU time, its limit, and was stopped; look for a loop that ' +
        'never ends or waits without sleeping, or raise runner.cpuSeconds in tapline.yaml',
    );
    expect(result.logs).toBe('');
    expect(result.durationMs).toBeGreaterThanOrEqual(1900);
    expect(result.durationMs).toBeLessThan(10_000);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });
});

describe('sandbox: bytes written to the working directory', () => {
  const message =
    'the script wrote more than 20 MiB (20971520 bytes) to its working directory and was ' +
    'stopped; stream what it fetches instead of saving it to files, or raise ' +
    'runner.maxWorkdirBytes in tapline.yaml';

  it('ends a script filling the disk with many files', async () => {
    const saved = savingCwd('disk-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
import itertools, tempfile

def fetch():
    chunk = b"x" * 256 * 1024
    for n in itertools.count():
        # Half in the working directory, half where tempfile puts files: both are counted.
        folder = "." if n % 2 else tempfile.gettempdir()
        with open(os.path.join(folder, "part-%d" % n), "wb") as out:
            out.write(chunk)
`,
      { maxWorkdirBytes: 20 * mib },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('disk_limit');
    expect(result.error).toBe(message);
    expectNothingLeft(saved.cwd());
    // The working directory, and every file in it, is gone.
    expect(() => readdirSync(saved.cwd())).toThrow(/ENOENT/);
    expect(longestGapMs).toBeLessThan(500);
  });

  it('stops a single file at the limit, even when the script catches the error', async () => {
    const result = await run(
      `
def fetch():
    try:
        with open("big.bin", "wb") as out:
            for _ in range(30):
                out.write(b"x" * 1024 * 1024)
    except OSError as error:
        print("ignored:", error)
    return [{"a": 1}]
`,
      { maxWorkdirBytes: 20 * mib },
    );
    expect(result.failureKind).toBe('disk_limit');
    expect(result.error).toBe(message);
  });

  it('reports a write past the limit that the script does not catch', async () => {
    const result = await run(
      'def fetch():\n    with open("big.bin", "wb") as out:\n' +
        '        out.write(b"x" * 30 * 1024 * 1024)\n',
      { maxWorkdirBytes: 20 * mib },
    );
    expect(result.failureKind).toBe('disk_limit');
    expect(result.error).toBe(message);
  });
});

describe('sandbox: printed output', () => {
  it('ends a script printing a 10 MB line past a smaller ceiling, keeping only logBytes', async () => {
    const saved = savingCwd('output-cwd');
    const before = process.memoryUsage().rss;
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
import sys, time

def fetch():
    sys.stdout.write("x" * 10_000_000 + "\\n")
    time.sleep(600)
`,
      // The line limit raised past the line, so this is the total the run is stopped by.
      { maxOutputBytes: 4 * mib, maxLogLineBytes: 16 * mib, logBytes: 64 * 1024 },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('output_limit');
    expect(result.error).toBe(
      'the script printed more than 4 MiB (4194304 bytes) of logs and was stopped; print ' +
        'less (only the first and last runner.logBytes of the logs are kept anyway), or ' +
        'raise runner.maxOutputBytes in tapline.yaml',
    );
    expect(Buffer.byteLength(result.logs)).toBeLessThanOrEqual(64 * 1024);
    expect(result.logs).toMatch(/^x+\n\[\.\.\. \d+ bytes of logs cut here \.\.\.\]\nx+$/);
    // Reading stopped a little past the ceiling: nowhere near the 10 MB line was held.
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * mib);
    expect(result.durationMs).toBeLessThan(5000);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('ends a 10 MB line under the default settings, naming the line limit', async () => {
    const saved = savingCwd('line-cwd');
    const before = process.memoryUsage().rss;
    const { result, longestGapMs } = await runWatchingLoop(`${saved.prelude}
import sys, time

def fetch():
    sys.stdout.write("x" * 10_000_000 + "\\n")
    time.sleep(600)
`);
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('output_limit');
    expect(result.error).toBe(
      'the script printed a single line longer than 1 MiB (1048576 bytes) and was stopped; ' +
        "print a line's length or its first few hundred characters rather than a whole " +
        'response or list, or raise runner.maxLogLineBytes in tapline.yaml',
    );
    expect(Buffer.byteLength(result.logs)).toBeLessThanOrEqual(1024 * 1024);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * mib);
    expect(result.durationMs).toBeLessThan(5000);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('lets a chatty script print 100,000 short lines under the default settings', async () => {
    const result = await run(`
def fetch():
    for n in range(100_000):
        print("fetched page", n, "of 100000")
    return [{"pages": 100_000}]
`);
    expect(result.outcome).toBe('success');
    expect(result.records).toEqual([{ pages: 100_000 }]);
    expect(result.logs.startsWith('fetched page 0 of 100000\n')).toBe(true);
    expect(result.logs.endsWith('fetched page 99999 of 100000\n')).toBe(true);
  });

  it('takes a progress bar redrawn with carriage returns as short lines', async () => {
    // 200,000 redraws, about 5 MB with no newline: one line to a pipe, many on a screen.
    const result = await run(`
import sys

def fetch():
    for n in range(200_000):
        sys.stderr.write("\\rdownloading %6d/200000" % n)
    sys.stderr.write("\\n")
    return [{"done": True}]
`);
    expect(result.outcome).toBe('success');
    expect(result.logs.endsWith('\rdownloading 199999/200000\n')).toBe(true);
  });
});

describe('sandbox: records', () => {
  it('ends a single 20 MB record over the 16 MiB default', async () => {
    const saved = savingCwd('record-cwd');
    const { result, longestGapMs } = await runWatchingLoop(
      `${saved.prelude}
def fetch():
    yield {"id": 1}
    yield {"blob": "x" * 20_000_000}
`,
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('record_too_large');
    expect(result.error).toBe(
      'record 2 is 20000011 bytes as JSON, over the largest single record allowed ' +
        '(16 MiB (16777216 bytes)); split it into smaller records, or raise ' +
        'runner.maxRecordBytes in tapline.yaml',
    );
    expect(result.records).toEqual([{ id: 1 }]);
    expectNothingLeft(saved.cwd());
    expect(longestGapMs).toBeLessThan(500);
  });

  it('ends a run whose records pass the total for one run', async () => {
    const stagingPath = path.join(scratch, 'records-limit.ndjson');
    const result = await run(
      'def fetch():\n    n = 0\n    while True:\n        n += 1\n        yield {"n": n, "pad": "p" * 100}\n',
      { mode: 'run', stagingPath, maxRunRecordBytes: 2 * mib },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('records_limit');
    expect(result.error).toBe(
      'the script produced more than 2 MiB (2097152 bytes) of records (as JSON) in one run ' +
        'and was stopped; fetch a smaller window per run (params such as since and until), ' +
        'or raise runner.maxRunRecordBytes in tapline.yaml',
    );
    expect(result.stagedBytes).toBeLessThanOrEqual(2 * mib);
  });

  it('ends a test run whose kept records pass runner.maxTestRecordBytes, whatever its limit', async () => {
    // testLimit 0 keeps every record in memory for the answer: a tap yielding 100 KB records
    // forever once grew the server past a gigabyte. 20 MB here, so a runner without the limit
    // answers success instead of eating the machine.
    const result = await run(
      'def fetch():\n    for n in range(200):\n        yield {"n": n, "pad": "p" * 100_000}\n',
      { testLimit: 0, maxTestRecordBytes: 2 * mib },
    );
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('records_limit');
    expect(result.error).toBe(
      "the script's records passed 2 MiB (2097152 bytes) as JSON, the most a test run keeps " +
        'in memory for its answer, and it was stopped; test with a smaller testLimit ' +
        '(tapline tap test --limit), use run mode to fetch everything (it streams records to ' +
        'disk), or raise runner.maxTestRecordBytes in tapline.yaml',
    );
    const kept = result.records.reduce((sum, record) => sum + JSON.stringify(record).length, 0);
    expect(kept).toBeLessThanOrEqual(2 * mib);
    expect(result.records.length).toBeGreaterThanOrEqual(10);
    expect(result.durationMs).toBeLessThan(10_000);
  });

  it('keeps the per-run limit in test mode when it is the lower one', async () => {
    const result = await run('def fetch():\n    while True:\n        yield {"pad": "p" * 1000}\n', {
      testLimit: 0,
      maxRunRecordBytes: mib,
      maxTestRecordBytes: 2 * mib,
      timeoutSeconds: 20,
    });
    expect(result.failureKind).toBe('records_limit');
    expect(result.error).toContain('more than 1 MiB (1048576 bytes) of records');
    expect(result.error).toContain('runner.maxRunRecordBytes');
  });
});

describe('sandbox: interpreter and environment', () => {
  it('runs the real interpreter, not a shim, with no shim variables and temp files at home', async () => {
    const result = await run(`
import os, sys, tempfile

def fetch():
    return [{
        "executable": sys.executable,
        "shim_vars": sorted(name for name in os.environ if name.startswith("PYENV")),
        "tempdir": tempfile.gettempdir() == os.getcwd(),
        "arenas": os.environ.get("MALLOC_ARENA_MAX"),
    }]
`);
    const real = execFileSync(python, ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim();
    expect(result.records).toEqual([
      { executable: real, shim_vars: [], tempdir: true, arenas: '2' },
    ]);
  });

  it('still reports a Python that does not exist as a start failure', async () => {
    const result = await run('def fetch():\n    return []\n', {
      python: '/nonexistent/python3',
    });
    expect(result.failureKind).toBe('crashed');
    expect(result.error).toContain("could not start Python '/nonexistent/python3'");
  });
});
