import { TaplineError } from '../errors/catalogue.js';

/**
 * Bounds how many scripts run at once. Requests over the limit wait in a bounded line; past
 * that they are refused with 503 and a Retry-After hint, so a burst cannot exhaust the machine.
 */
export class RunSlots {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly queueLimit: number,
    private readonly retryAfterSeconds = 5,
  ) {}

  async acquire(): Promise<() => void> {
    if (this.running < this.slots) {
      this.running++;
      return this.releaser();
    }
    if (this.waiting.length >= this.queueLimit) {
      throw new TaplineError(
        'too_many_runs',
        `all ${this.slots} run slots are busy and ${this.queueLimit} runs are waiting; ` +
          `retry in ${this.retryAfterSeconds} s or raise runner.maxConcurrentRuns`,
        { retryAfterSeconds: this.retryAfterSeconds },
      );
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.releaser();
  }

  get busy(): number {
    return this.running;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `running` stays the same.
      if (next) next();
      else this.running--;
    };
  }
}
