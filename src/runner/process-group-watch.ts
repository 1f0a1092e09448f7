/**
 * The process limit where no pids cgroup can be made: every 50 ms count the processes in the
 * run's process group (from /proc/<pid>/stat) and kill the group once there are too many.
 *
 * This is weaker than a cgroup, and said so in the README's limitations:
 * - a fork bomb grows freely between two counts (thousands of processes in 50 ms) before the
 *   group is killed; nothing makes the kernel refuse its forks;
 * - a process that calls setsid (or setpgid) leaves the group: it is neither counted nor killed
 *   at the end of the run;
 * - threads are not counted, only processes;
 * - without /proc (macOS) nothing is counted at all; only the group kill at the end remains.
 */

import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessLimit } from './process-limit.js';

const pollMs = 50;
const killDeadlineMs = 5000;

/** The watches of the runs in progress; one scan of /proc every pollMs serves them all. */
const watching = new Set<ProcessGroupWatch>();
let scanTimer: NodeJS.Timeout | undefined;
let scanning = false;

export class ProcessGroupWatch implements ProcessLimit {
  readonly mechanism = 'process-group' as const;
  readonly procsPath = null;

  private pgid: number | undefined;
  private onBreach: (() => void) | undefined;
  private seenBreach = false;

  constructor(private readonly maxProcesses: number) {}

  watch(pid: number, onBreach: () => void): void {
    this.pgid = pid;
    this.onBreach = onBreach;
    watching.add(this);
    scanTimer ??= setInterval(() => void scan(), pollMs);
  }

  breached(): Promise<boolean> {
    return Promise.resolve(this.seenBreach);
  }

  async close(): Promise<void> {
    this.unwatch();
    if (this.pgid === undefined) return;

    // Members forked while the last kill was being delivered get the next one.
    const deadline = Date.now() + killDeadlineMs;
    while ((await groupSizes()).has(this.pgid) && Date.now() < deadline) {
      killGroup(this.pgid);
      await sleep(10);
    }
  }

  /** Called by the scan with the group's size. */
  count(members: number): void {
    if (members <= this.maxProcesses || this.pgid === undefined) return;
    this.seenBreach = true;
    this.unwatch();
    killGroup(this.pgid);
    this.onBreach?.();
  }

  get group(): number | undefined {
    return this.pgid;
  }

  private unwatch(): void {
    watching.delete(this);
    if (watching.size === 0) {
      clearInterval(scanTimer);
      scanTimer = undefined;
    }
  }
}

async function scan(): Promise<void> {
  // A scan of a busy /proc can outlast the interval; never run two at once.
  if (scanning) return;
  scanning = true;
  try {
    const sizes = await groupSizes();
    for (const watch of [...watching]) watch.count(sizes.get(watch.group!) ?? 0);
  } finally {
    scanning = false;
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone.
  }
}

/** How many live (not zombie) processes each process group has. */
async function groupSizes(): Promise<Map<number, number>> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const groups = await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name))
      .map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
        // The command name, in parentheses, may hold spaces and parentheses itself.
        const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return state !== undefined && state !== 'Z' ? Number(group) : 0;
      }),
  );
  const sizes = new Map<number, number>();
  for (const group of groups) if (group > 0) sizes.set(group, (sizes.get(group) ?? 0) + 1);
  return sizes;
}
