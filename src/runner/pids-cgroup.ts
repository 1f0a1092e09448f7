/**
 * One run's pids cgroup (v1 or v2). `pids.max` makes the kernel refuse a fork past the limit,
 * so a fork bomb cannot grow however fast it forks; `pids.events` counts the refusals, which is
 * how the breach is seen. At the end every process in the cgroup is killed, whatever its
 * process group or session, and the cgroup is removed.
 */

import { mkdir, rmdir } from 'node:fs/promises';
import { pollForBreach } from './breach-poll.js';
import path from 'node:path';
import type { ProcessLimit } from './process-limit.js';
import { type CgroupVersion, readControl, removeCgroup, writeControl } from './run-cgroups.js';

/** Often enough that a breach ends the run before the script notices its failed forks. */

export class PidsCgroup implements ProcessLimit {
  readonly mechanism: 'cgroup-v2' | 'cgroup-v1';
  readonly procsPath: string;

  private stopPolling: (() => void) | undefined;
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
    this.stopPolling = pollForBreach(() => this.breached(), onBreach);
  }

  async breached(): Promise<boolean> {
    if (this.seenBreach) return true;
    const events = await readControl(this.dir, 'pids.events');
    this.seenBreach = Number(/^max (\d+)$/m.exec(events)?.[1] ?? 0) > 0;
    return this.seenBreach;
  }

  async close(): Promise<void> {
    this.stopPolling?.();
    await removeCgroup(this.dir);
  }
}
