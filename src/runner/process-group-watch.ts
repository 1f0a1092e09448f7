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

export class ProcessGroupWatch implements ProcessLimit {
  readonly mechanism = 'process-group' as const;
  readonly procsPath = null;

  private pgid: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private seenBreach = false;

  constructor(private readonly maxProcesses: number) {}

  watch(pid: number, onBreach: () => void): void {
    this.pgid = pid;
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void groupMembers(pid).then((members) => {
        this.polling = false;
        if (members.length <= this.maxProcesses || this.timer === undefined) return;
        this.seenBreach = true;
        clearInterval(this.timer);
        this.timer = undefined;
        killGroup(pid);
        onBreach();
      });
    }, pollMs);
  }

  breached(): Promise<boolean> {
    return Promise.resolve(this.seenBreach);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.pgid === undefined) return;

    // Members forked while the last kill was being delivered get the next one.
    const deadline = Date.now() + killDeadlineMs;
    while ((await groupMembers(this.pgid)).length > 0 && Date.now() < deadline) {
      killGroup(this.pgid);
      await sleep(10);
    }
  }
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone.
  }
}

/** Live (not zombie) processes whose process group is `pgid`. */
async function groupMembers(pgid: number): Promise<number[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const pids = names.filter((name) => /^\d+$/.test(name));
  const found = await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // The command name, in parentheses, may hold spaces and parentheses itself.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const [state, , group] = fields;
      return state !== undefined && state !== 'Z' && Number(group) === pgid ? Number(pid) : 0;
    }),
  );
  return found.filter((pid) => pid > 0);
}
