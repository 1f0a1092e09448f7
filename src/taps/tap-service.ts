import { Cron } from 'croner';
import { nearNames } from '../errors/near-names.js';
import { TaplineError } from '../errors/catalogue.js';
import type { MetadataStore, Run, Tap, TapSpec } from '../store/store.js';
import type { RunSummary, TapBody, TapView } from './tap-schema.js';

function summary(run: Run | undefined): RunSummary | null {
  if (!run) return null;
  return {
    runId: run.id,
    status: run.status,
    recordCount: run.recordCount,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    error: run.error,
  };
}

function nextRunAt(tap: Tap): string | null {
  if (!tap.schedule || !tap.enabled) return null;
  const next = new Cron(tap.schedule.cron, { paused: true, timezone: tap.schedule.timezone });
  return next.nextRun()?.toISOString() ?? null;
}

function toSpec(body: TapBody): TapSpec {
  return {
    name: body.name,
    description: body.description,
    kind: body.kind,
    script: body.script,
    targetPipeline: body.targetPipeline,
    schedule: body.schedule,
    enabled: body.enabled,
    secret: body.secret,
    timeoutSeconds: body.timeoutSeconds,
  };
}

/** The tap registry: saved scripts and their settings, each script change a new version. */
export class TapService {
  private changed: () => Promise<void> = async () => {};

  constructor(private readonly store: MetadataStore) {}

  /** Called after every create, replace and delete (the scheduler re-reads schedules). */
  onChange(listener: () => Promise<void>): void {
    this.changed = listener;
  }

  async list(): Promise<TapView[]> {
    const taps = await this.store.taps.list();
    return Promise.all(taps.map((tap) => this.view(tap)));
  }

  async get(name: string): Promise<TapView> {
    return this.view(await this.require(name));
  }

  async require(name: string): Promise<Tap> {
    const tap = await this.store.taps.get(name);
    if (!tap) {
      throw new TaplineError('tap_not_found', `tap '${name}' does not exist`, {
        similar: nearNames(
          name,
          (await this.store.taps.list()).map((tap) => tap.name),
        ),
      });
    }
    return tap;
  }

  async create(body: TapBody): Promise<TapView> {
    await this.checkReferences(body);
    const tap = await this.store.taps.create(toSpec(body));
    if (!tap) {
      throw new TaplineError(
        'tap_exists',
        `tap '${body.name}' already exists; replace it or pick another name`,
      );
    }
    await this.changed();
    return this.view(tap);
  }

  async put(body: TapBody): Promise<{ tap: TapView; created: boolean }> {
    await this.checkReferences(body);
    const { tap, created } = await this.store.taps.put(toSpec(body));
    await this.changed();
    return { tap: await this.view(tap), created };
  }

  /** Refused while a run of the tap is going: its record and state would outlive the tap. */
  async delete(name: string): Promise<void> {
    const running = await this.store.runs.running(name);
    if (running !== undefined) {
      throw new TaplineError(
        'run_in_progress',
        `tap '${name}' has a run in progress (${running}); delete it once the run has finished`,
        { runId: running },
      );
    }
    if (!(await this.store.taps.delete(name))) await this.require(name);
    await this.changed();
  }

  async versions(name: string) {
    await this.require(name);
    return this.store.taps.versions(name);
  }

  private async checkReferences(body: TapBody): Promise<void> {
    if (body.secret !== null && !(await this.store.secrets.get(body.secret))) {
      throw new TaplineError(
        'unknown_secret',
        `secret '${body.secret}' does not exist; create it first`,
      );
    }
    const target = body.targetPipeline;
    if (target !== null && !(await this.store.pipelines.get(target))) {
      throw new TaplineError(
        'unknown_pipeline',
        `targetPipeline '${target}' does not exist; create the pipeline first`,
        {
          similar: nearNames(
            target,
            (await this.store.pipelines.list()).map((p) => p.name),
          ),
        },
      );
    }
  }

  private async view(tap: Tap): Promise<TapView> {
    const [lastTest, lastRun] = await Promise.all([
      this.store.runs.last(tap.name, 'test'),
      this.store.runs.last(tap.name, 'run'),
    ]);
    return {
      ...tap,
      lastTest: summary(lastTest),
      lastRun: summary(lastRun),
      nextRunAt: nextRunAt(tap),
    };
  }
}
