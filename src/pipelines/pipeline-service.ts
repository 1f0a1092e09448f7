import { nearNames } from '../errors/near-names.js';
import { TaplineError } from '../errors/catalogue.js';
import type { MetadataStore, StoredPipeline } from '../store/store.js';
import { type Pipeline, parsePipeline } from './pipeline-schema.js';

export type PipelineView = Pipeline & { createdAt: string; updatedAt: string };

function toView(stored: StoredPipeline): PipelineView {
  return {
    ...parsePipeline(stored.definition),
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/** The pipeline with every webhook header value written as ***, its names kept. */
export function withoutHeaderValues(view: PipelineView): PipelineView {
  const destinations = view.destinations.map((destination) =>
    destination.type === 'webhook' && destination.headers
      ? {
          ...destination,
          headers: Object.fromEntries(
            Object.keys(destination.headers).map((name) => [name, '***']),
          ),
        }
      : destination,
  );
  return { ...view, destinations };
}

/** The pipeline registry. Definitions are validated by pipeline-schema before they are saved. */
export class PipelineService {
  constructor(private readonly store: MetadataStore) {}

  async list(): Promise<PipelineView[]> {
    return (await this.store.pipelines.list()).map(toView);
  }

  async get(name: string): Promise<PipelineView> {
    return toView(await this.stored(name));
  }

  async create(pipeline: Pipeline): Promise<PipelineView> {
    const stored = await this.store.pipelines.create(pipeline.name, pipeline);
    if (!stored) {
      throw new TaplineError(
        'pipeline_exists',
        `pipeline '${pipeline.name}' already exists; replace it or pick another name`,
      );
    }
    return toView(stored);
  }

  async put(pipeline: Pipeline): Promise<{ pipeline: PipelineView; created: boolean }> {
    const { pipeline: stored, created } = await this.store.pipelines.put(pipeline.name, pipeline);
    return { pipeline: toView(stored), created };
  }

  /**
   * Refused while taps target the pipeline, unless forced (those taps then fail to run). A
   * definition that no longer validates (saved before a rule was tightened) can still be deleted.
   */
  async delete(name: string, force: boolean): Promise<void> {
    await this.stored(name);
    const taps = await this.store.taps.targeting(name);
    if (taps.length > 0 && !force) {
      throw new TaplineError(
        'pipeline_in_use',
        `pipeline '${name}' is the target of ${taps.length === 1 ? 'tap' : 'taps'} ` +
          `${taps.map((t) => `'${t}'`).join(', ')}; point ${taps.length === 1 ? 'it' : 'them'} ` +
          'at another pipeline first, or force the delete (a tap whose pipeline is gone fails ' +
          'to run)',
        { taps },
      );
    }
    await this.store.pipelines.delete(name);
  }

  private async stored(name: string): Promise<StoredPipeline> {
    const stored = await this.store.pipelines.get(name);
    if (!stored) {
      const names = (await this.store.pipelines.list()).map((pipeline) => pipeline.name);
      throw new TaplineError('pipeline_not_found', `pipeline '${name}' does not exist`, {
        similar: nearNames(name, names),
      });
    }
    return stored;
  }
}
