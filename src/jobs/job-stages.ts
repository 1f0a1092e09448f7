import type { LoadBatch } from '../destinations/destination.js';
import { SchemaStage } from '../pipelines/conform.js';
import type { Pipeline } from '../pipelines/pipeline-schema.js';
import { QualityStage } from '../pipelines/quality.js';
import { createTransform, type TransformOutcome } from '../pipelines/transform.js';
import type { StagedBatch } from './staging-reader.js';

/** How many reasons the one warning event about rejected records quotes. */
const reasonExamples = 5;

export class RejectTally {
  count = 0;
  readonly reasons: string[] = [];

  add(reason: string): void {
    this.count += 1;
    if (this.reasons.length < reasonExamples) this.reasons.push(reason);
  }

  summary(): string {
    const more = this.count > this.reasons.length ? ` (first ${this.reasons.length})` : '';
    return `${this.reasons.join('; ')}${more}`;
  }
}

/**
 * quality -> transform -> schema for one pass over a job's staged records. Built fresh for each
 * pass, so a second pass (for destinations that cannot roll back) decides exactly as the first.
 */
export class JobStages {
  readonly quality: QualityStage;
  readonly schema: SchemaStage;
  readonly rejects = new RejectTally();
  private readonly transform: ((record: Record<string, unknown>) => TransformOutcome) | undefined;
  checked = 0;
  transformed = 0;
  /** Set when a `fail` rule stopped the job: the rule and a sample value. */
  failure: string | undefined;

  constructor(pipeline: Pipeline) {
    this.quality = new QualityStage(pipeline.quality);
    this.transform = pipeline.transform ? createTransform(pipeline.transform) : undefined;
    this.schema = new SchemaStage(pipeline);
  }

  /** The batch's records ready for destinations, or undefined once a `fail` rule fired. */
  run(batch: StagedBatch): LoadBatch | undefined {
    for (const refused of batch.refused) this.rejects.add(refused.reason);

    const records: Record<string, unknown>[] = [];
    const lines: number[] = [];
    const checking = this.quality.active;
    for (let index = 0; index < batch.records.length; index += 1) {
      let record = batch.records[index]!;
      const line = batch.lines[index]!;
      if (checking) {
        this.checked += 1;
        const verdict = this.quality.check(record, line);
        if (verdict.action === 'fail') {
          this.failure = verdict.reason;
          return undefined;
        }
        if (verdict.action === 'reject') {
          this.rejects.add(verdict.reason);
          continue;
        }
      }
      if (this.transform) {
        this.transformed += 1;
        const outcome = this.transform(record);
        if (typeof outcome === 'string') {
          this.rejects.add(`record ${line}: ${outcome}`);
          continue;
        }
        record = outcome;
      }
      records.push(record);
      lines.push(line);
    }

    const conformed = this.schema.conform(records, lines, (_line, reason) => {
      this.rejects.add(reason);
    });
    return { records: conformed.records, fields: this.schema.fields };
  }
}
