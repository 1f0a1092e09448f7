import { coerceValue, unfit, unfitReason } from './coerce.js';
import { inferFields, widenNumeric } from './infer-schema.js';
import type { FieldType, Pipeline } from './pipeline-schema.js';
import { transformedName } from './transform.js';

/** conformOne's answer when an inferred field has just widened. */
const widen = Symbol('widen');

/**
 * Brings each transformed record to the pipeline's schema before any destination sees it, so
 * every destination receives the same values: declared fields (renamed as the transform
 * renames them) are converted by the rule of coerce.ts; keys without a declared type get one
 * inferred from the first batch that carries them (the rule is in infer-schema.ts); under
 * `evolve` an inferred numeric field then widens for a later number it cannot hold instead of
 * rejecting it. Under `freeze` the schema is the declared one, or, when none is declared, the one
 * inferred from the job's first batch; a record with a key outside it, or a value that does not
 * fit its type, is rejected.
 */
export class SchemaStage {
  /** Every typed field so far, in first-seen order (declared ones first). */
  readonly fields = new Map<string, FieldType>();
  /** Declared fields keep their type: a value that does not fit it is rejected. */
  private readonly declared = new Set<string>();
  private frozen: boolean;

  constructor(private readonly pipeline: Pipeline) {
    for (const field of pipeline.schema ?? []) {
      const name = transformedName(pipeline.transform, field.name);
      if (name === undefined) continue;
      this.fields.set(name, field.type);
      this.declared.add(name);
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

    // A field that widens part-way through the batch sends the whole batch through again, so
    // every record of it is converted to the wider type (conversion is idempotent). A field
    // widens at most twice (integer, number, decimal), so this ends.
    for (;;) {
      const kept: Record<string, unknown>[] = [];
      const keptLines: number[] = [];
      const problems: [line: number, reason: string][] = [];
      let widened = false;
      for (let index = 0; index < records.length && !widened; index += 1) {
        const record = records[index]!;
        const line = lines[index]!;
        const problem = this.conformOne(record);
        if (problem === widen) {
          widened = true;
        } else if (problem === null) {
          kept.push(record);
          keptLines.push(line);
        } else {
          problems.push([line, `record ${line}: ${problem}`]);
        }
      }
      if (widened) continue;
      for (const [line, reason] of problems) reject(line, reason);
      return { records: kept, lines: keptLines };
    }
  }

  private conformOne(record: Record<string, unknown>): string | typeof widen | null {
    for (const key in record) {
      const value = record[key];
      if (value === null || value === undefined) continue;
      const type = this.fields.get(key);
      if (type === undefined) {
        return `field '${key}' is not in the schema (schemaPolicy freeze)`;
      }
      const converted = coerceValue(value, type);
      if (converted === unfit) {
        const wider = this.widens(key) ? widenNumeric(type, value) : undefined;
        if (wider === undefined) return unfitReason(key, value, type);
        this.fields.set(key, wider);
        return widen;
      }
      if (converted !== value) record[key] = converted;
    }
    return null;
  }

  private widens(key: string): boolean {
    return this.pipeline.schemaPolicy === 'evolve' && !this.declared.has(key);
  }
}
