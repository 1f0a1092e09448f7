import type { Pipeline } from '../pipelines/pipeline-schema.js';
import { type JobEvent, loadJob, type LoadJobInput, type LoadJobResult } from './load-job.js';
import type { StagingProgress } from './staging-progress.js';

type Settled = { result: LoadJobResult } | { error: unknown };

/**
 * A job's load that begins while its script is still running: it reads the staging file as it
 * grows, so a large run's records are checked and written by Node while Python produces them.
 * It is speculative until the run ends: its events wait in a buffer, and once every record is
 * written it waits, uncommitted, for the run to hand it the job:
 * - the run succeeded: the queue adopts it as the job's load, the buffered events go out, and it
 *   reads on to the end of the file and commits;
 * - the run failed or returned nothing: `cancel` rolls it back, and nothing of it was visible;
 * - it met a warehouse another load holds, or another load asked for one it holds: it gives way
 *   and rolls back, and the job is loaded after the run like any other.
 * Nothing is committed before adoption, and a crash leaves the job to the queue's usual
 * recovery, so an early load changes when a job's records are written, never what is written.
 */
export class EarlyLoad {
  private phase: 'speculating' | 'adopted' | 'gave_way' | 'cancelled' = 'speculating';
  private readonly stop = new AbortController();
  private readonly buffered: JobEvent[] = [];
  private emit: ((event: JobEvent) => Promise<void>) | undefined;
  private readonly settled: Promise<Settled>;
  /** Resolves once the run hands over the job (adopt) or the load is stopped. */
  private readonly handedOver: Promise<void>;
  private handOver!: () => void;

  constructor(input: {
    job: LoadJobInput['job'];
    pipeline: Pipeline;
    dataDir: string;
    progress: StagingProgress;
  }) {
    const load = this;
    this.handedOver = new Promise((resolve) => (this.handOver = resolve));
    this.stop.signal.addEventListener('abort', () => this.handOver(), { once: true });
    this.settled = loadJob({
      ...input,
      emit: (event) => this.forward(event),
      signal: this.stop.signal,
      beforeCommit: () => this.handedOver,
      early: {
        get adopted() {
          return load.phase === 'adopted';
        },
        giveWay: () => this.giveWay(),
      },
    }).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
  }

  /** True once it has stopped so another load could have a warehouse; the job loads later. */
  get gaveWay(): boolean {
    return this.phase === 'gave_way';
  }

  /**
   * Makes this the job's load: the buffered events go out through `emit` (after the queue's
   * own begin event), later ones follow directly, and `signal` stops it like any job's load.
   */
  async adopt(
    emit: (event: JobEvent) => Promise<void>,
    signal: AbortSignal,
  ): Promise<LoadJobResult> {
    if (this.phase === 'speculating') this.phase = 'adopted';
    while (this.buffered.length > 0) await emit(this.buffered.shift()!);
    this.emit = emit;
    const onStop = () => this.stop.abort(signal.reason);
    if (signal.aborted) onStop();
    signal.addEventListener('abort', onStop, { once: true });
    this.handOver();

    try {
      const settled = await this.settled;
      if ('error' in settled) throw settled.error;
      return settled.result;
    } finally {
      signal.removeEventListener('abort', onStop);
    }
  }

  /** The run ended without a job: rolls back whatever was written. Never throws. */
  async cancel(): Promise<void> {
    if (this.phase === 'speculating') this.phase = 'cancelled';
    this.stop.abort('the run ended without records to load');
    await this.settled;
  }

  private giveWay(): void {
    if (this.phase !== 'speculating') return;
    this.phase = 'gave_way';
    this.stop.abort('gave way to another load of the same warehouse');
  }

  private async forward(event: JobEvent): Promise<void> {
    if (this.emit) await this.emit(event);
    else this.buffered.push(event);
  }
}
