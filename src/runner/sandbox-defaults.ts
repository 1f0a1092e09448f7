/**
 * Defaults for the sandbox limits that are optional in a ScriptRunRequest. The config's runner
 * section takes its defaults from here too, so a caller that leaves a limit out gets the same
 * value a server with no tapline.yaml would.
 */

const mib = 1024 * 1024;
const gib = 1024 * mib;

export const sandboxDefaults = {
  /**
   * CPU seconds per process. Equal to the run-mode timeout: a single-threaded script cannot
   * reach it before the wall clock does, so it only stops threads or busy children burning
   * several cores for a whole run.
   */
  cpuSeconds: 3600,
  /**
   * Processes (and, in a cgroup, threads: the pids controller counts tasks) a run may have at
   * once. Generous for thread pools and multiprocessing, far below what hurts the machine.
   */
  maxProcesses: 128,
  /** Bytes a run may keep in its working directory (its temp files included). */
  maxWorkdirBytes: gib,
  /** Record bytes (NDJSON) one run may produce; run mode stages them on disk. */
  maxRunRecordBytes: 10 * gib,
  /**
   * Record bytes (NDJSON) a test run may keep. Test mode holds its records in memory to send
   * back in the answer, so this bounds what one test costs the server, parsed objects and the
   * serialised answer included (several times these bytes).
   */
  maxTestRecordBytes: 64 * mib,
  /** Bytes a script may print in all; the kept logs are capped far lower by logBytes. */
  maxOutputBytes: 64 * mib,
  /**
   * Bytes of one printed line. A line that long is a whole response or a list of records
   * printed at once, no log a person reads, and far past what logBytes keeps.
   */
  maxLogLineBytes: mib,
} as const;

/** Every sandbox limit, set: what a run applies, from its request or else the defaults. */
export type SandboxLimits = { -readonly [Name in keyof typeof sandboxDefaults]: number };

const limitNames = Object.keys(sandboxDefaults) as (keyof SandboxLimits)[];

/**
 * The sandbox limits among `settings`, each left out taken from the defaults. The run service
 * passes the config's runner section through this, so a limit added here reaches every run.
 */
export function sandboxLimits(settings: Partial<SandboxLimits>): SandboxLimits {
  const limits = { ...sandboxDefaults } as SandboxLimits;
  for (const name of limitNames) limits[name] = settings[name] ?? sandboxDefaults[name];
  return limits;
}
