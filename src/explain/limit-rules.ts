/**
 * The causes that are one of tapline's limits: the run was stopped because it broke it. Each
 * names the limit as the runner's message gives it (or its default), the setting that raises
 * it, and what to change in the script so it stays under it.
 */
import { sandboxDefaults } from '../runner/sandbox-defaults.js';
import { type CauseRule, either, kind, regex, windowHint } from './cause-rule.js';

const kib = 1024;
const mib = 1024 * kib;
const gib = 1024 * mib;

/** 1536 -> "1.5 KiB", 20971520 -> "20 MiB". */
export function size(bytes: number): string {
  for (const [unit, scale] of [
    ['GiB', gib],
    ['MiB', mib],
    ['KiB', kib],
  ] as const) {
    if (bytes >= scale) return `${Math.round((bytes / scale) * 10) / 10} ${unit}`;
  }
  return bytes === 1 ? '1 byte' : `${bytes} bytes`;
}

/** The limit a runner message names: its last "<n> bytes" (formatBytes puts it last). */
function bytesIn(error: string | undefined): number | null {
  const all = [...(error ?? '').matchAll(/(\d+) bytes/g)];
  const last = all[all.length - 1]?.[1];
  return last ? Number(last) : null;
}

/** "20 MiB", or "1 GiB by default" when the message names no number. */
function bytesLimit(error: string | undefined, fallback: number | null): string {
  const bytes = bytesIn(error);
  if (bytes !== null) return size(bytes);
  return fallback === null ? 'its limit' : `${size(fallback)} by default`;
}

function numberIn(error: string | undefined, pattern: RegExp): string | null {
  return pattern.exec(error ?? '')?.[1] ?? null;
}

const modeDefaults = {
  test: { setting: 'runner.testTimeoutSeconds', seconds: 300 },
  run: { setting: 'runner.runTimeoutSeconds', seconds: 3600 },
} as const;

export const limitRules: CauseRule[] = [
  {
    cause: 'timeout',
    match: kind('timeout'),
    say: ([error], { facts }) => {
      const own = facts.tap.timeoutSeconds ?? null;
      const seconds = numberIn(error, /(\d+(?:\.\d+)?)\s*(?:s\b|sec|second)/) ?? own;
      const limit = seconds === null ? '' : ` of ${seconds} s`;
      const smaller =
        `better, fetch less per run by passing a smaller window through ` +
        `params${windowHint(facts.params)}. A request without its own timeout that hangs also ` +
        `ends here.`;
      if (own !== null) {
        return (
          `The run hit the tap's own timeout${limit} (the tap's timeoutSeconds, which replaces ` +
          `tapline's ${facts.mode}-mode default) and was stopped. If the source is just slow, ` +
          `raise the tap's timeoutSeconds; ${smaller}`
        );
      }
      const fallback = modeDefaults[facts.mode];
      return (
        `The run hit tapline's ${facts.mode}-mode timeout${limit} (${fallback.setting}; the ` +
        `tap sets no timeoutSeconds of its own) and was stopped. If the source is just slow, ` +
        `raise the limit for this tap alone with the tap's timeoutSeconds, or for every tap ` +
        `with ${fallback.setting} (${fallback.seconds} s by default); ${smaller}`
      );
    },
  },
  {
    cause: 'memory_limit',
    match: either(kind('memory_limit'), regex(/^MemoryError\b/m)),
    say: ([error]) =>
      `The script ran out of memory: tapline caps each run at runner.memoryBytes ` +
      `(${bytesLimit(error, 2 * gib)}). Yield records one at a time from fetch() instead of ` +
      `building a list, read large responses page by page, or raise runner.memoryBytes.`,
  },
  {
    cause: 'record_too_large',
    match: kind('record_too_large'),
    say: ([error]) =>
      `One record was larger than the limit, runner.maxRecordBytes ` +
      `(${bytesLimit(error, 16 * mib)}). Split it into several records (one per item of a ` +
      `nested list), drop bulky fields such as raw payloads, or raise runner.maxRecordBytes.`,
  },
  {
    cause: 'test_records_limit',
    match: ({ facts }) =>
      facts.failureKind === 'records_limit' && /maxTestRecordBytes/.test(facts.error ?? '')
        ? [facts.error ?? '']
        : null,
    say: ([error], { facts }) =>
      `The test run's records passed ` +
      `${bytesLimit(error, sandboxDefaults.maxTestRecordBytes)} as JSON, the most a test keeps ` +
      `in memory to send back (runner.maxTestRecordBytes), and it was stopped; the script ` +
      `itself may be fine. Test with a smaller limit (tapline tap test ${facts.tap.name} ` +
      `--limit 100, or testLimit in the request; 0 means all), run the tap in run mode to ` +
      `fetch everything (records stream to disk there), or raise runner.maxTestRecordBytes.`,
  },
  {
    cause: 'records_limit',
    match: kind('records_limit'),
    say: ([error], { facts }) =>
      `The run produced more records than one run may: more than ` +
      `${bytesLimit(error, sandboxDefaults.maxRunRecordBytes)} as JSON, the limit set by ` +
      `runner.maxRunRecordBytes, and was stopped. Fetch a smaller window per run through ` +
      `params${windowHint(facts.params)} and cover a long range in several runs, leave out ` +
      `fields nobody needs, or raise runner.maxRunRecordBytes.`,
  },
  {
    cause: 'log_line_limit',
    match: ({ facts }) =>
      facts.failureKind === 'output_limit' && /maxLogLineBytes/.test(facts.error ?? '')
        ? [facts.error ?? '']
        : null,
    say: ([error]) =>
      `The script printed a single line longer than ${bytesLimit(error, null)} (the limit ` +
      `runner.maxLogLineBytes) and was stopped. Such a line is usually a whole response body ` +
      `or a list of records printed at once: print its length or its first few hundred ` +
      `characters (e.g. text[:500]) instead, or raise runner.maxLogLineBytes.`,
  },
  {
    cause: 'output_limit',
    match: kind('output_limit'),
    say: ([error]) =>
      `The script printed more than ${bytesLimit(error, sandboxDefaults.maxOutputBytes)} of ` +
      `logs, the limit set by runner.maxOutputBytes, and was stopped. Print a short line per ` +
      `page or a count instead of whole responses or every record (records belong in what ` +
      `fetch() returns, not in print), or raise runner.maxOutputBytes; only the first and ` +
      `last runner.logBytes of the logs are kept anyway.`,
  },
  {
    cause: 'cpu_limit',
    match: kind('cpu_limit'),
    say: ([error]) => {
      const seconds = numberIn(error, /(\d+(?:\.\d+)?) s of CPU/);
      const limit = seconds ? `${seconds} s` : `${sandboxDefaults.cpuSeconds} s by default`;
      return (
        `The script used up its CPU time (${limit}, the limit set by runner.cpuSeconds) and ` +
        `was stopped. That is time spent computing, not waiting for the network: look for a ` +
        `loop that never ends, a retry or polling loop that does not sleep, or heavy work ` +
        `repeated for every record (the threads of a process add up). Fix that, or raise ` +
        `runner.cpuSeconds.`
      );
    },
  },
  {
    cause: 'process_limit',
    match: kind('process_limit'),
    say: ([error]) => {
      const count = numberIn(error, /more than (\d+) process/);
      const limit = count
        ? `more than ${count}`
        : `more than its limit (${sandboxDefaults.maxProcesses} by default)`;
      return (
        `The script started ${limit} processes and threads at once (runner.maxProcesses) and ` +
        `was stopped, with every process it started. Use a bounded pool (e.g. ` +
        `ThreadPoolExecutor(max_workers=8)) instead of a thread or process per item, make sure ` +
        `the subprocesses it starts end, or raise runner.maxProcesses.`
      );
    },
  },
  {
    cause: 'disk_limit',
    match: kind('disk_limit'),
    say: ([error], { facts }) =>
      `The script wrote more than ${bytesLimit(error, sandboxDefaults.maxWorkdirBytes)} to ` +
      `its working directory, temporary files included (runner.maxWorkdirBytes), and was ` +
      `stopped. Turn what it fetches into records as it reads instead of saving it to files ` +
      `first, delete temporary files once read, fetch a smaller window per run through ` +
      `params${windowHint(facts.params)}, or raise runner.maxWorkdirBytes.`,
  },
];
