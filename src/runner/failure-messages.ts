/**
 * The messages for failures that tapline, not the script, detects. Each names the limit that
 * was hit and the setting that raises it, so a user (or an agent) can act on it directly.
 */

import type { RunMode } from '../store/store.js';

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value} ${units[unit]} (${bytes} bytes)`;
}

/**
 * `source` says whose setting the timeout was: the tap's own timeoutSeconds replaces the mode's
 * default, so only that one can raise it. Unknown, both are named.
 */
export function timeoutMessage(seconds: number, mode: RunMode, source?: 'tap' | 'mode'): string {
  const stopped =
    `the script ran longer than its ${seconds} s timeout and was stopped, with every process ` +
    `it started`;
  if (source === 'tap') {
    return (
      `${stopped}; the limit is the tap's own timeoutSeconds (${seconds} s), which replaces ` +
      `tapline's ${mode}-mode default for this tap: raise the tap's timeoutSeconds, or fetch ` +
      `less per run`
    );
  }
  const setting = mode === 'test' ? 'runner.testTimeoutSeconds' : 'runner.runTimeoutSeconds';
  return `${stopped}; raise the limit with the tap's timeoutSeconds, or ${setting} in tapline.yaml`;
}

export function memoryMessage(memoryBytes: number): string {
  return (
    `the script ran out of memory: it may use at most ${formatBytes(memoryBytes)} ` +
    `(runner.memoryBytes in tapline.yaml). Yield records one at a time from a generator ` +
    `instead of building a list of them, or raise runner.memoryBytes`
  );
}

export function recordTooLargeMessage(
  recordNumber: number,
  bytes: number,
  maxRecordBytes: number,
  exact: boolean,
): string {
  const size = exact ? `${bytes} bytes` : `at least ${bytes} bytes`;
  return (
    `record ${recordNumber} is ${size} as JSON, over the largest single record allowed ` +
    `(${formatBytes(maxRecordBytes)}); split it into smaller records, or raise ` +
    `runner.maxRecordBytes in tapline.yaml`
  );
}

export function cpuMessage(cpuSeconds: number): string {
  return (
    `the script used ${cpuSeconds} s of CPU time, its limit, and was stopped; look for a loop ` +
    `that never ends or waits without sleeping, or raise runner.cpuSeconds in tapline.yaml`
  );
}

export function processMessage(maxProcesses: number): string {
  return (
    `the script tried to run more than ${maxProcesses} processes and threads at once and was ` +
    `stopped, with every process it started; start fewer (a bounded pool of workers), or ` +
    `raise runner.maxProcesses in tapline.yaml`
  );
}

export function diskMessage(maxWorkdirBytes: number): string {
  return (
    `the script wrote more than ${formatBytes(maxWorkdirBytes)} to its working directory ` +
    `and was stopped; stream what it fetches instead of saving it to files, or raise ` +
    `runner.maxWorkdirBytes in tapline.yaml`
  );
}

export function recordsMessage(maxRunRecordBytes: number): string {
  return (
    `the script produced more than ${formatBytes(maxRunRecordBytes)} of records (as JSON) ` +
    `in one run and was stopped; fetch a smaller window per run (params such as since and ` +
    `until), or raise runner.maxRunRecordBytes in tapline.yaml`
  );
}

export function testRecordsMessage(maxTestRecordBytes: number): string {
  return (
    `the script's records passed ${formatBytes(maxTestRecordBytes)} as JSON, the most a ` +
    `test run keeps in memory for its answer, and it was stopped; test with a smaller ` +
    `testLimit (tapline tap test --limit), use run mode to fetch everything (it streams ` +
    `records to disk), or raise runner.maxTestRecordBytes in tapline.yaml`
  );
}

export function outputMessage(maxOutputBytes: number): string {
  return (
    `the script printed more than ${formatBytes(maxOutputBytes)} of logs and was stopped; ` +
    `print less (only the first and last runner.logBytes of the logs are kept anyway), or ` +
    `raise runner.maxOutputBytes in tapline.yaml`
  );
}

export function logLineMessage(maxLogLineBytes: number): string {
  return (
    `the script printed a single line longer than ${formatBytes(maxLogLineBytes)} and was ` +
    `stopped; print a line's length or its first few hundred characters rather than a whole ` +
    `response or list, or raise runner.maxLogLineBytes in tapline.yaml`
  );
}

export const abortedMessage = 'the run was stopped before it finished (tapline is shutting down)';

export function crashedMessage(code: number | null, signal: string | null): string {
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
  return `the script's Python process ${how} before it finished; the logs may say why`;
}

export function startFailedMessage(python: string, reason: string): string {
  return (
    `could not start Python '${python}': ${reason}; set runner.python in tapline.yaml ` +
    `(or TAPLINE_PYTHON) to a Python 3 interpreter`
  );
}
