/**
 * Caps the memory of a whole run, every process it starts together. The harness's RLIMIT_AS
 * binds one process at a time, so a script that forks gets the limit once per child; a memory
 * cgroup counts them all. Past the limit the kernel's OOM killer ends a process of the run
 * (on v2 all of them at once), and the OOM-kill counter is how the breach is seen.
 *
 * On v2 the limit goes in the run's pids cgroup, since a process belongs to one v2 cgroup; on
 * v1 the memory controller has its own hierarchy, so the run gets a second cgroup there that
 * the harness joins too. Without either, the per-process rlimit is all there is.
 */

import { mkdir, rmdir } from 'node:fs/promises';
import { pollForBreach } from './breach-poll.js';
import path from 'node:path';
import type { ProcessLimit } from './process-limit.js';
import {
  type CgroupVersion,
  cgroupParent,
  readControl,
  removeCgroup,
  runCgroupDir,
  writeControl,
} from './run-cgroups.js';

/** Often enough that the rest of a run stops soon after one of its processes was killed. */

export class MemoryCgroup {
  readonly mechanism: 'cgroup-v2' | 'cgroup-v1';
  /** A cgroup.procs the harness joins besides the pids cgroup's; null when it is the same. */
  readonly procsPath: string | null;

  private stopPolling: (() => void) | undefined;
  private seenBreach = false;

  private constructor(
    version: CgroupVersion,
    private readonly dir: string,
    /** v1: the cgroup is this object's to remove; v2: the pids cgroup's, removed with it. */
    private readonly owned: boolean,
  ) {
    this.mechanism = version === 2 ? 'cgroup-v2' : 'cgroup-v1';
    this.procsPath = owned ? path.join(dir, 'cgroup.procs') : null;
  }

  /** The run's memory cgroup with its limit set, or null when the kernel offers none. */
  static async open(memoryBytes: number, processLimit: ProcessLimit): Promise<MemoryCgroup | null> {
    const parent = await cgroupParent('memory');
    if (parent === null) return null;

    if (parent.version === 2) {
      if (processLimit.mechanism !== 'cgroup-v2' || processLimit.procsPath === null) return null;
      const dir = path.dirname(processLimit.procsPath);
      try {
        await writeControl(dir, 'memory.max', String(memoryBytes));
      } catch {
        return null;
      }
      // Without swap accounting or group kills the limit still holds, a little more loosely.
      await writeControl(dir, 'memory.swap.max', '0').catch(() => undefined);
      await writeControl(dir, 'memory.oom.group', '1').catch(() => undefined);
      return new MemoryCgroup(2, dir, false);
    }

    const dir = runCgroupDir(parent);
    try {
      await mkdir(dir);
    } catch {
      return null;
    }
    try {
      await writeControl(dir, 'memory.limit_in_bytes', String(memoryBytes));
    } catch {
      await rmdir(dir).catch(() => undefined);
      return null;
    }
    // memsw (memory plus swap) exists only with swap accounting, and must not be below the
    // memory limit, hence second.
    await writeControl(dir, 'memory.memsw.limit_in_bytes', String(memoryBytes)).catch(
      () => undefined,
    );
    return new MemoryCgroup(1, dir, true);
  }

  /** Starts watching for an OOM kill; `onBreach` is called at most once. */
  watch(onBreach: () => void): void {
    this.stopPolling = pollForBreach(() => this.breached(), onBreach);
  }

  /**
   * Whether the kernel killed a process of the run for memory. Reclaiming page cache at the
   * limit is no breach, so the OOM-kill count is read rather than the limit-hit count. (v1
   * kernels before 4.13 have no such count; there a breach shows only as a killed process.)
   */
  async breached(): Promise<boolean> {
    if (this.seenBreach) return true;
    const file = this.mechanism === 'cgroup-v2' ? 'memory.events' : 'memory.oom_control';
    const events = await readControl(this.dir, file);
    this.seenBreach = Number(/^oom_kill (\d+)$/m.exec(events)?.[1] ?? 0) > 0;
    return this.seenBreach;
  }

  /** Stops watching and, on v1, kills what is left in the cgroup and removes it. */
  async close(): Promise<void> {
    this.stopPolling?.();
    if (this.owned) await removeCgroup(this.dir);
  }
}
