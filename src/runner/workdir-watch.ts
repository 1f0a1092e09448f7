/**
 * Bounds the bytes a run keeps in its working directory. RLIMIT_FSIZE (set by the harness)
 * stops any single file at the limit, but a script can write many files; so this adds up the
 * whole directory, like du, every 200 ms and reports once the total passes the limit.
 *
 * Allocated blocks are counted rather than file sizes: a sparse file takes little disk, and
 * RLIMIT_FSIZE already bounds how far one can reach.
 */

import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

const pollMs = 200;

export class WorkdirWatch {
  private timer: NodeJS.Timeout | undefined;
  private walking = false;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Starts polling; `onBreach` is called at most once, with the bytes found. */
  watch(onBreach: (bytes: number) => void): void {
    this.timer = setInterval(() => {
      // A walk of a huge tree can take longer than the interval; never run two at once.
      if (this.walking) return;
      this.walking = true;
      void this.usedBytes().then((bytes) => {
        this.walking = false;
        if (bytes <= this.maxBytes || this.timer === undefined) return;
        this.stop();
        onBreach(bytes);
      });
    }, pollMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Whether the directory holds more than the limit now (the last check, after exit). */
  async breached(): Promise<boolean> {
    return (await this.usedBytes()) > this.maxBytes;
  }

  /** Bytes on disk under the directory; entries that vanish mid-walk count as nothing. */
  async usedBytes(): Promise<number> {
    let total = 0;
    const pending = [this.dir];
    while (pending.length > 0) {
      const dir = pending.pop()!;
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      const sizes = await Promise.all(
        entries.map(async (entry) => {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) pending.push(full);
          const stats = await lstat(full).catch(() => undefined);
          return stats === undefined ? 0 : stats.blocks * 512;
        }),
      );
      for (const size of sizes) total += size;
      // Stop early: the answer is already known, and the tree may be enormous.
      if (total > this.maxBytes) return total;
    }
    return total;
  }
}
