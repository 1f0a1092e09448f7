import { describe, expect, it } from 'vitest';
import { SchemaStage } from './conform.js';
import { pipelineSchema, type PipelineInput } from './pipeline-schema.js';

function schemaStage(extra: Partial<PipelineInput> = {}) {
  return new SchemaStage(
    pipelineSchema.parse({ name: 'p', destinations: [{ type: 'sqlite', table: 't' }], ...extra }),
  );
}

/** Conforms one batch; the kept records and the reject reasons. */
function conform(stage: SchemaStage, records: Record<string, unknown>[]) {
  const reasons: string[] = [];
  const lines = records.map((_, index) => index + 1);
  const kept = stage.conform(records, lines, (_line, reason) => reasons.push(reason));
  return { kept: kept.records, reasons };
}

describe('SchemaStage inference', () => {
  it('widens an inferred integer for later batches: number, then decimal', () => {
    const stage = schemaStage();
    conform(stage, [{ n: 2 }]);
    expect(stage.fields.get('n')).toBe('integer');
    expect(conform(stage, [{ n: 3 }, { n: 2.5 }])).toEqual({
      kept: [{ n: 3 }, { n: 2.5 }],
      reasons: [],
    });
    expect(stage.fields.get('n')).toBe('number');
    // A BigInt a double would round: every record of the batch becomes exact text.
    expect(conform(stage, [{ n: 1.5 }, { n: 2n ** 60n + 1n }])).toEqual({
      kept: [{ n: '1.5' }, { n: '1152921504606846977' }],
      reasons: [],
    });
    expect(stage.fields.get('n')).toBe('decimal');
  });

  it('infers decimal for an integer outside 64 bits, and integer within', () => {
    const stage = schemaStage();
    const { kept } = conform(stage, [
      { id: 9223372036854775807n, big: 2n ** 70n },
      { id: 1, big: 5 },
    ]);
    expect(Object.fromEntries(stage.fields)).toEqual({ id: 'integer', big: 'decimal' });
    expect(kept).toEqual([
      { id: 9223372036854775807n, big: '1180591620717411303424' },
      { id: 1, big: '5' },
    ]);
  });

  it('keeps rejecting for a declared field and under freeze', () => {
    const declared = schemaStage({ schema: [{ name: 'n', type: 'integer' }] });
    expect(conform(declared, [{ n: 2.5 }]).reasons).toEqual([
      "record 1: field 'n': 2.5 is not an integer",
    ]);
    const frozen = schemaStage({ schemaPolicy: 'freeze' });
    conform(frozen, [{ n: 2 }]);
    expect(conform(frozen, [{ n: 2.5 }]).reasons).toEqual([
      "record 1: field 'n': 2.5 is not an integer",
    ]);
  });

  it('does not widen a number field to text', () => {
    const stage = schemaStage();
    conform(stage, [{ n: 2 }]);
    expect(conform(stage, [{ n: 'two' }]).reasons).toEqual([
      `record 1: field 'n': "two" is not an integer`,
    ]);
    expect(stage.fields.get('n')).toBe('integer');
  });
});
