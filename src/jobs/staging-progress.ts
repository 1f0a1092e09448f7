/** Where a staging file stands: bytes safely written so far, and whether writing has ended. */
export interface StagingExtent {
  size: number;
  ended: boolean;
}

/**
 * How much of a run's staging file has been written, so a load can read the file while the
 * script is still producing it (see early-load.ts). The run's record pipe reports each write
 * once the bytes are in the file; a reader that reaches the end waits here for more.
 */
export class StagingProgress {
  private size = 0;
  private ended = false;
  private waiters = new Set<() => void>();

  /** A file that is already complete: readers get its whole size at once. */
  static complete(size: number): StagingProgress {
    const progress = new StagingProgress();
    progress.end(size);
    return progress;
  }

  /** `size` bytes of the file are written (a running total, never smaller than before). */
  advance(size: number): void {
    if (size <= this.size) return;
    this.size = size;
    this.wake();
  }

  /** Writing ended with the file at `size` bytes. */
  end(size: number): void {
    this.size = size;
    this.ended = true;
    this.wake();
  }

  /** Resolves once the file holds more than `offset` bytes or has ended; rejects on abort. */
  async beyond(offset: number, signal?: AbortSignal): Promise<StagingExtent> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.size > offset || this.ended) return { size: this.size, ended: this.ended };
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
