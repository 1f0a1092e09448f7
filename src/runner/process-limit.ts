/**
 * Bounds how many processes one run may have, and finds every one of them at the end.
 * RLIMIT_NPROC cannot do this: it does not bind root, and it counts all of a user's processes
 * rather than one run's. So each run gets its own pids cgroup where one can be made (v2 first,
 * then v1); the harness joins it as its first act, so every descendant is counted and found,
 * including those that called setsid and left the process group. Without a writable cgroup a
 * watcher counts the process group's members instead, which is weaker (see
 * process-group-watch.ts).
 */

import { PidsCgroup } from './pids-cgroup.js';
import { ProcessGroupWatch } from './process-group-watch.js';
import { cgroupParent, runCgroupDir } from './run-cgroups.js';

export interface ProcessLimit {
  readonly mechanism: 'cgroup-v2' | 'cgroup-v1' | 'process-group';
  /** The cgroup.procs file the harness writes its pid into first; null without a cgroup. */
  readonly procsPath: string | null;
  /** Starts watching the run whose group leader is `pid`; `onBreach` is called at most once. */
  watch(pid: number, onBreach: () => void): void;
  /** Whether the run went past the limit (a fork refused, or too many processes seen). */
  breached(): Promise<boolean>;
  /** Kills every process of the run and removes its cgroup. Never throws. */
  close(): Promise<void>;
}

export async function openProcessLimit(maxProcesses: number): Promise<ProcessLimit> {
  const parent = await cgroupParent('pids');
  if (parent !== null) {
    const cgroup = await PidsCgroup.create(parent.version, runCgroupDir(parent), maxProcesses);
    if (cgroup !== null) return cgroup;
  }
  return new ProcessGroupWatch(maxProcesses);
}
