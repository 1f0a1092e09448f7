/**
 * Runs one tap script: spawns Python with harness.py in a fresh working directory and its own
 * process group, feeds it params, state and secrets through the environment, and reads three
 * streams back (logs on stdout+stderr, records on fd 3, the final report on fd 4).
 *
 * The sandbox: the harness sets the kernel's per-process limits (memory, CPU seconds, file
 * size); the run's processes are bounded and found by process-limit.ts, and its memory as a
 * whole by memory-cgroup.ts where the kernel allows; the working directory, the records, the
 * printed output and its longest line are bounded here. A breach of any ends the run as a
 * failure whose message names the limit and the setting that raises it.
 *
 * Whatever the script does ends as a ScriptRunResult; runScript throws only when tapline itself
 * cannot do its part (the staging file cannot be written, a caller passed an invalid param key).
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ControlPipe, type HarnessReport } from './control-pipe.js';
import {
  abortedMessage,
  cpuMessage,
  crashedMessage,
  diskMessage,
  logLineMessage,
  memoryMessage,
  outputMessage,
  processMessage,
  recordsMessage,
  recordTooLargeMessage,
  startFailedMessage,
  testRecordsMessage,
  timeoutMessage,
} from './failure-messages.js';
import { LogCapture } from './log-capture.js';
import { LogLineLength } from './log-line-length.js';
import { MemoryCgroup } from './memory-cgroup.js';
import { drain } from './pipe-drain.js';
import { openProcessLimit, type ProcessLimit } from './process-limit.js';
import { resolvePython } from './python-path.js';
import { RecordPipe, type RecordPipeOptions } from './record-pipe.js';
import { type SandboxLimits, sandboxLimits } from './sandbox-defaults.js';
import { scriptEnv } from './script-env.js';
import type { ScriptFailureKind, ScriptRunRequest, ScriptRunResult } from './script-run.js';
import { workdirPrefix } from './workdir-sweep.js';
import { WorkdirWatch } from './workdir-watch.js';

const harnessPath = fileURLToPath(new URL('./harness.py', import.meta.url));
/** The name the script is saved and compiled under, so tracebacks say `tap.py, line 3`. */
const scriptFile = 'tap.py';
/** After the report, how long Python may take to exit (say, waiting on its threads). */
const exitGraceMs = 2000;
/**
 * After Python exits, how long a pipe may stay silent before we stop waiting for it: a process
 * that left the group (setsid) can hold it open forever.
 */
const pipeIdleMs = 500;
/** Log pipes get no longer than this after exit, since such a process may keep printing. */
const logPipeMaxMs = 2000;

/** setTimeout fires at once for longer delays; a timeout of 24 days is as good as none. */
const maxTimerMs = 2 ** 31 - 1;

const failureKinds: ReadonlySet<string> = new Set<ScriptFailureKind>([
  'exception',
  'syntax_error',
  'no_fetch',
  'timeout',
  'memory_limit',
  'record_too_large',
  'disk_limit',
  'bad_output',
  'crashed',
  'aborted',
]);

interface Failure {
  kind: ScriptFailureKind;
  error: string;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null } | { startError: Error };

/** What bounds the run's processes: always a process limit, a memory cgroup where possible. */
interface RunCgroups {
  processes: ProcessLimit;
  memory: MemoryCgroup | null;
}

export async function runScript(request: ScriptRunRequest): Promise<ScriptRunResult> {
  const startedAt = performance.now();
  if (request.signal?.aborted) {
    return failed(request, startedAt, { kind: 'aborted', error: abortedMessage });
  }

  const limits = sandboxLimits(request);
  const workDir = await mkdtemp(path.join(tmpdir(), workdirPrefix()));
  const processes = await openProcessLimit(limits.maxProcesses);
  const memory = await MemoryCgroup.open(request.memoryBytes, processes);
  try {
    await writeFile(path.join(workDir, scriptFile), request.script);
    return await execute(request, limits, { processes, memory }, workDir, startedAt);
  } finally {
    await processes.close();
    await memory?.close();
    // Without a cgroup, a process that escaped the group may still be writing here; retries
    // cover that race.
    await rm(workDir, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
  }
}

async function execute(
  request: ScriptRunRequest,
  limits: SandboxLimits,
  cgroups: RunCgroups,
  workDir: string,
  startedAt: number,
): Promise<ScriptRunResult> {
  const python = await resolvePython(request.python);
  const env = scriptEnv(request);
  // Temp files go where the disk limit counts them and the end of the run removes them.
  env.TMPDIR = workDir;
  const harnessConfig = {
    kind: request.kind,
    limit: request.mode === 'test' ? request.testLimit : 0,
    maxRecordBytes: request.maxRecordBytes,
    memoryBytes: request.memoryBytes,
    cpuSeconds: limits.cpuSeconds,
    maxFileBytes: limits.maxWorkdirBytes + 1,
    cgroupProcs: [cgroups.processes.procsPath, cgroups.memory?.procsPath ?? null].filter(
      (procsPath) => procsPath !== null,
    ),
  };
  // Known shortcoming: the script runs as the server's own user, so it can read what the server
  // can, the data directory and its secret.key included. Running scripts as a user of their own
  // is not built yet (README, Limitations).
  const child = spawn(python, ['-u', '-B', harnessPath, JSON.stringify(harnessConfig)], {
    cwd: workDir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
  });
  const exit = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (startError) => resolve({ startError }));
  });
  const [, stdout, stderr, recordStream, controlStream] = child.stdio as Readable[];

  let stopped: Failure | undefined;
  const killGroup = () => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // ESRCH: the group is already gone.
    }
  };
  const stop = (failure: Failure) => {
    stopped ??= failure;
    killGroup();
  };

  const memoryFailure: Failure = {
    kind: 'memory_limit',
    error: memoryMessage(request.memoryBytes),
  };
  if (child.pid !== undefined) {
    cgroups.processes.watch(child.pid, () =>
      stop({ kind: 'process_limit', error: processMessage(limits.maxProcesses) }),
    );
    cgroups.memory?.watch(() => stop(memoryFailure));
  }
  const workdir = new WorkdirWatch(workDir, limits.maxWorkdirBytes);
  workdir.watch(() => stop({ kind: 'disk_limit', error: diskMessage(limits.maxWorkdirBytes) }));

  // LogCapture keeps chunks, not lines, so a 10 MB line costs no more than its budget; each
  // stream's lines are measured apart, since the two pipes' chunks interleave.
  const logs = new LogCapture(request.logBytes);
  const onLog = (lines: LogLineLength) => (chunk: Buffer) => {
    logs.write(chunk);
    lines.write(chunk);
    if (stopped !== undefined) return;
    if (logs.totalBytes > limits.maxOutputBytes) {
      stop({ kind: 'output_limit', error: outputMessage(limits.maxOutputBytes) });
    } else if (lines.longest > limits.maxLogLineBytes) {
      stop({ kind: 'output_limit', error: logLineMessage(limits.maxLogLineBytes) });
    }
  };
  stdout!.on('data', onLog(new LogLineLength()));
  stderr!.on('data', onLog(new LogLineLength()));

  const records = new RecordPipe({
    keep: request.mode === 'test',
    maxRecordBytes: request.maxRecordBytes,
    stagingPath: request.mode === 'run' ? request.stagingPath : undefined,
    onTooLarge: (recordNumber, bytes) =>
      stop({
        kind: 'record_too_large',
        error: recordTooLargeMessage(recordNumber, bytes, request.maxRecordBytes, false),
      }),
    ...recordBudget(request.mode, limits, (error) => stop({ kind: 'records_limit', error })),
    ...(request.onStaged ? { onStaged: request.onStaged } : {}),
  });
  records.attach(recordStream!);

  let graceTimer: NodeJS.Timeout | undefined;
  const control = ControlPipe.forRecordLimit(request.maxRecordBytes, () => {
    graceTimer = setTimeout(killGroup, exitGraceMs);
  });
  control.attach(controlStream!);

  const timeoutTimer = setTimeout(
    () => {
      // Once the script has reported, its result stands; only a slow exit is left to end.
      if (control.report !== undefined) killGroup();
      else {
        const { timeoutSeconds, mode, timeoutSource } = request;
        stop({ kind: 'timeout', error: timeoutMessage(timeoutSeconds, mode, timeoutSource) });
      }
    },
    Math.min(request.timeoutSeconds * 1000, maxTimerMs),
  );
  const onAbort = () => stop({ kind: 'aborted', error: abortedMessage });
  request.signal?.addEventListener('abort', onAbort, { once: true });
  // An abort while the run was being set up (cgroup, interpreter, spawn) fired no event here.
  if (request.signal?.aborted) onAbort();

  const exited = await exit;
  clearTimeout(timeoutTimer);
  clearTimeout(graceTimer);
  workdir.stop();
  request.signal?.removeEventListener('abort', onAbort);
  // Background children the script started must not outlive the run.
  killGroup();

  // A breach between the last poll and the exit still counts; the cgroups must still exist.
  if (stopped === undefined && (await cgroups.processes.breached())) {
    stopped = { kind: 'process_limit', error: processMessage(limits.maxProcesses) };
  }
  // An OOM kill leaves no report and no MemoryError in the logs, only a SIGKILL.
  if (stopped === undefined && (await cgroups.memory?.breached())) stopped = memoryFailure;
  if (stopped === undefined && !('startError' in exited) && (await workdir.breached())) {
    stopped = { kind: 'disk_limit', error: diskMessage(limits.maxWorkdirBytes) };
  }
  // Kills what is left, setsid escapees included, so no pipe is held open by them.
  await cgroups.processes.close();
  await cgroups.memory?.close();

  if ('startError' in exited) {
    for (const stream of child.stdio) stream?.destroy();
    return failed(request, startedAt, {
      kind: 'crashed',
      error: startFailedMessage(request.python, exited.startError.message),
    });
  }

  await Promise.all([
    drain(recordStream!, pipeIdleMs, Infinity),
    drain(controlStream!, pipeIdleMs, Infinity),
    drain(stdout!, pipeIdleMs, logPipeMaxMs),
    drain(stderr!, pipeIdleMs, logPipeMaxMs),
  ]);
  await records.finish();

  const logText = logs.text();
  const report = control.report;
  const failure =
    stopped ??
    judge(request, limits, report, control, records, exited.code, exited.signal, logText);
  return {
    outcome: failure === undefined ? 'success' : 'failure',
    failureKind: failure?.kind ?? null,
    records: request.mode === 'test' ? records.records : [],
    recordCount: records.count,
    recordsTruncated: request.mode === 'test' && report?.type === 'done' && !!report.truncated,
    dataType: report?.dataType ?? null,
    columns: report?.columns ?? [],
    logs: logText,
    error: failure?.error ?? null,
    newState: failure === undefined ? report?.state : undefined,
    stagedBytes: records.stagedBytes,
    durationMs: Math.round(performance.now() - startedAt),
  };
}

/**
 * The most record bytes the run may produce, and what to do past it. Test mode keeps its records
 * in memory for the answer, so its own, lower limit applies there (the lower of the two).
 */
function recordBudget(
  mode: ScriptRunRequest['mode'],
  limits: SandboxLimits,
  onTooMuch: (error: string) => void,
): Pick<RecordPipeOptions, 'maxTotalBytes' | 'onTooMuch'> {
  if (mode === 'test' && limits.maxTestRecordBytes < limits.maxRunRecordBytes) {
    const maxTotalBytes = limits.maxTestRecordBytes;
    return { maxTotalBytes, onTooMuch: () => onTooMuch(testRecordsMessage(maxTotalBytes)) };
  }
  const maxTotalBytes = limits.maxRunRecordBytes;
  return { maxTotalBytes, onTooMuch: () => onTooMuch(recordsMessage(maxTotalBytes)) };
}

/** The failure, if any, of a run that tapline did not stop itself. */
function judge(
  request: ScriptRunRequest,
  limits: SandboxLimits,
  report: HarnessReport | undefined,
  control: ControlPipe,
  records: RecordPipe,
  code: number | null,
  signal: NodeJS.Signals | null,
  logText: string,
): Failure | undefined {
  if (control.badOutput !== null) return { kind: 'bad_output', error: control.badOutput };

  if (report === undefined) {
    if (signal === 'SIGXCPU') return { kind: 'cpu_limit', error: cpuMessage(limits.cpuSeconds) };
    // Python can die of the memory limit without raising MemoryError (a C extension aborts).
    if (/MemoryError|Cannot allocate memory|std::bad_alloc|out of memory/.test(logText)) {
      return { kind: 'memory_limit', error: memoryMessage(request.memoryBytes) };
    }
    return { kind: 'crashed', error: crashedMessage(code, signal) };
  }

  if (report.type === 'error') return reportedFailure(request, limits, report);

  if (records.badOutput !== null) return { kind: 'bad_output', error: records.badOutput };
  if (report.count !== records.count) {
    return {
      kind: 'bad_output',
      error:
        `the harness wrote ${report.count} records but the record pipe carried ` +
        `${records.count}; something else in the script wrote to the record pipe (fd 3)`,
    };
  }
  return undefined;
}

function reportedFailure(
  request: ScriptRunRequest,
  limits: SandboxLimits,
  report: HarnessReport,
): Failure {
  const kind = (failureKinds.has(report.kind ?? '') ? report.kind : 'crashed') as ScriptFailureKind;
  if (kind === 'memory_limit') return { kind, error: memoryMessage(request.memoryBytes) };
  if (kind === 'disk_limit') return { kind, error: diskMessage(limits.maxWorkdirBytes) };
  if (kind === 'record_too_large') {
    const error = recordTooLargeMessage(
      report.record ?? 0,
      report.bytes ?? 0,
      request.maxRecordBytes,
      true,
    );
    return { kind, error };
  }
  return { kind, error: report.error ?? 'the script failed without a message' };
}

function failed(request: ScriptRunRequest, startedAt: number, failure: Failure): ScriptRunResult {
  return {
    outcome: 'failure',
    failureKind: failure.kind,
    records: [],
    recordCount: 0,
    recordsTruncated: false,
    dataType: null,
    columns: [],
    logs: '',
    error: failure.error,
    newState: undefined,
    stagedBytes: 0,
    durationMs: Math.round(performance.now() - startedAt),
  };
}
