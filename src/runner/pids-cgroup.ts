/**
 * One run's pids cgroup (v1 or v2). `pids.max` makes the kernel refuse a fork past the limit,
 * so a fork bomb cannot grow however fast it forks; `pids.events` counts the refusals, which is
 * how the breach is seen. At the end every process in the cgroup is killed, whatever its
 * process group or session, and the cgroup is removed.
 */

import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessLimit } from './process-limit.js';

export type CgroupVersion = 1 | 2;

/** Often enough that a breach ends the run before the script notices its failed forks. */
const pollMs = 50;
/** How long killing may take before the cgroup is left for the next server start to clear. */
const killDeadlineMs = 5000;

export class PidsCgroup implements ProcessLimit {
  readonly mechanism: 'cgroup-v2' | 'cgroup-v1';
  readonly procsPath: string;

  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private seenBreach = false;

  private constructor(
    version: CgroupVersion,
    private readonly dir: string,
  ) {
    this.mechanism = version === 2 ? 'cgroup-v2' : 'cgroup-v1';
    this.procsPath = path.join(dir, 'cgroup.procs');
  }

  /** Makes the run's cgroup with its limit, or returns null when the kernel will not. */
  static async create(
    version: CgroupVersion,
    dir: string,
    maxProcesses: number,
  ): Promise<PidsCgroup | null> {
    try {
      await mkdir(dir);
    } catch {
      return null;
    }
    try {
      await writeControl(dir, 'pids.max', String(maxProcesses));
      return new PidsCgroup(version, dir);
    } catch {
      await rmdir(dir).catch(() => undefined);
      return null;
    }
  }

  watch(_pid: number, onBreach: () => void): void {
    this.timer = setInterval(() => {
      if (this.polling) return;
      this.polling = true;
      void this.breached().then((breached) => {
        this.polling = false;
        if (breached && this.timer !== undefined) {
          clearInterval(this.timer);
          this.timer = undefined;
          onBreach();
        }
      });
    }, pollMs);
  }

  async breached(): Promise<boolean> {
    if (this.seenBreach) return true;
    const events = await readFile(path.join(this.dir, 'pids.events'), 'utf8').catch(() => '');
    this.seenBreach = Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0) > 0;
    return this.seenBreach;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await removeCgroup(this.dir);
  }
}

/**
 * Kills every process in a run cgroup and removes it. Forks are refused first (pids.max 0), so
 * the kill loop is not racing a fork bomb; v2's cgroup.kill does it in one write where the
 * kernel has it (5.14+), and the loop catches the rest.
 */
export async function removeCgroup(dir: string): Promise<void> {
  await writeControl(dir, 'pids.max', '0').catch(() => undefined);
  await writeControl(dir, 'cgroup.kill', '1').catch(() => undefined);

  const deadline = Date.now() + killDeadlineMs;
  for (;;) {
    const pids = await members(dir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ESRCH: it died between the read and the kill.
      }
    }
    // A killed process leaves the cgroup once it has exited, a moment after the signal.
    if (pids.length === 0) {
      try {
        await rmdir(dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      }
    }
    if (Date.now() > deadline) return;
    await sleep(10);
  }
}

async function members(dir: string): Promise<number[]> {
  const text = await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid > 0);
}

/** Writes an existing control file; never creates one (v1 has no cgroup.kill). */
function writeControl(dir: string, name: string, value: string): Promise<void> {
  return writeFile(path.join(dir, name), value, { flag: 'r+' });
}
