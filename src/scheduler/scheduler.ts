import { Cron } from 'croner';
import type { Logger } from 'pino';
import { isTaplineError } from '../errors/catalogue.js';
import type { RunService } from '../runs/run-service.js';
import type { MetadataStore, Tap } from '../store/store.js';

/** How often the schedule is re-read, to pick up taps changed by another process. */
const resyncMs = 60_000;

function scheduleKey(tap: Tap): string | null {
  if (!tap.enabled || tap.schedule === null) return null;
  return `${tap.schedule.cron}@${tap.schedule.timezone}`;
}

/**
 * Fires run-mode runs of scheduled taps, in this process. A firing that finds the tap's
 * previous run still going is skipped (the run service refuses it), never queued up behind.
 *
 * Known shortcoming: with several processes on one database each would fire the same tap;
 * single-firing through a database lock comes with server mode (DESIGN section 8).
 */
export class Scheduler {
  private readonly jobs = new Map<string, { key: string; cron: Cron }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly runs: RunService,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.sync();
    this.timer = setInterval(() => void this.sync(), resyncMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    for (const { cron } of this.jobs.values()) cron.stop();
    this.jobs.clear();
  }

  /** Brings the running crons in line with the saved taps. */
  async sync(): Promise<void> {
    const taps = await this.store.taps.list();
    const wanted = new Map(taps.map((tap) => [tap.name, tap] as const));
    for (const [name, job] of this.jobs) {
      const tap = wanted.get(name);
      if (!tap || scheduleKey(tap) !== job.key) {
        job.cron.stop();
        this.jobs.delete(name);
      }
    }
    for (const tap of taps) {
      const key = scheduleKey(tap);
      if (key === null || this.jobs.has(tap.name)) continue;
      const cron = new Cron(
        tap.schedule!.cron,
        { timezone: tap.schedule!.timezone, protect: true },
        () => this.fire(tap.name),
      );
      this.jobs.set(tap.name, { key, cron });
    }
  }

  private async fire(name: string): Promise<void> {
    const log = this.logger.child({ tap: name, trigger: 'schedule' });
    try {
      await this.runs.run({ name, mode: 'run', params: {}, testLimit: 0, trigger: 'schedule' });
    } catch (error) {
      if (isTaplineError(error))
        log.warn({ code: error.code }, 'scheduled run skipped: ' + error.message);
      else log.error({ err: error }, 'scheduled run failed inside tapline');
    }
  }
}
