import { coerceValue, unfit, unfitReason } from './coerce.js';
import { inferFields } from './infer-schema.js';
import type { FieldType, Pipeline } from './pipeline-schema.js';
import { transformedName } from './transform.js';

/**
 * Brings each transformed record to the pipeline's schema before any destination sees it, so
 * every destination receives the same values: declared fields (renamed as the transform
 * renames them) are converted by the rule of coerce.ts; keys without a declared type get one
 * inferred from the first batch that carries them. Under `freeze` the schema is the declared
 * one, or, when none is declared, the one inferred from the job's first batch; a record with a
 * key outside it is rejected.
 */
export class SchemaStage {
  /** Every typed field so far, in first-seen order (declared ones first). */
  readonly fields = new Map<string, FieldType>();
  private frozen: boolean;

  constructor(private readonly pipeline: Pipeline) {
    for (const field of pipeline.schema ?? []) {
      const name = transformedName(pipeline.transform, field.name);
      if (name !== undefined) this.fields.set(name, field.type);
    }
    this.frozen = pipeline.schemaPolicy === 'freeze' && pipeline.schema !== undefined;
  }

  /** The records that fit, converted in place; `reject` hears about the others. */
  conform(
    records: Record<string, unknown>[],
    lines: readonly number[],
    reject: (line: number, reason: string) => void,
  ): { records: Record<string, unknown>[]; lines: number[] } {
    if (!this.frozen) {
      for (const [key, type] of inferFields(records, (key) => this.fields.has(key))) {
        this.fields.set(key, type);
      }
      if (this.pipeline.schemaPolicy === 'freeze' && records.length > 0) this.frozen = true;
    }

    const kept: Record<string, unknown>[] = [];
    const keptLines: number[] = [];
    records.forEach((record, index) => {
      const line = lines[index]!;
      const problem = this.conformOne(record);
      if (problem === null) {
        kept.push(record);
        keptLines.push(line);
      } else {
        reject(line, `record ${line}: ${problem}`);
      }
    });
    return { records: kept, lines: keptLines };
  }

  private conformOne(record: Record<string, unknown>): string | null {
    for (const key in record) {
      const value = record[key];
      if (value === null || value === undefined) continue;
      const type = this.fields.get(key);
      if (type === undefined) {
        return `field '${key}' is not in the schema (schemaPolicy freeze)`;
      }
      const converted = coerceValue(value, type);
      if (converted === unfit) return unfitReason(key, value, type);
      if (converted !== value) record[key] = converted;
    }
    return null;
  }
}
