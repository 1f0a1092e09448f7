import { describe, expect, it } from 'vitest';
import { pipelineSchema } from './pipeline-schema.js';
import { QualityStage } from './quality.js';

/** A stage of one rule, parsed as a pipeline would be (so defaults apply). */
function stage(rule: Record<string, unknown>): QualityStage {
  const pipeline = pipelineSchema.parse({
    name: 'p',
    quality: [rule],
    destinations: [{ type: 'sqlite', table: 't' }],
  });
  return new QualityStage(pipeline.quality);
}

describe('quality check type', () => {
  const check = stage({ field: 'n', check: 'type', type: 'integer' });

  it('passes what converts to the type without loss, and null', () => {
    for (const value of [42, '42', 2033735037361704962n, null, undefined]) {
      expect(check.check({ n: value }, 1)).toEqual({ action: 'pass' });
    }
  });

  it('rejects what would lose something, naming the type with its article', () => {
    expect(check.check({ n: 4.5 }, 3)).toEqual({
      action: 'reject',
      reason: "record 3: quality[0] (type on 'n') failed: 4.5 is not an integer",
    });
    expect(check.check({ n: '4x' }, 4)).toEqual({
      action: 'reject',
      reason: `record 4: quality[0] (type on 'n') failed: "4x" is not an integer`,
    });
  });

  it('fails the job with a sample value when onFailure is fail', () => {
    const failing = stage({ field: 'd', check: 'type', type: 'date', onFailure: 'fail' });
    expect(failing.check({ d: '2023-02-29' }, 7)).toEqual({
      action: 'fail',
      reason:
        `record 7: quality[0] (type on 'd') failed: "2023-02-29" is not a date; ` +
        `sample value: "2023-02-29"`,
    });
  });
});

describe('quality check max', () => {
  it('compares numbers numerically, numeric text included', () => {
    const check = stage({ field: 'n', check: 'max', value: 10 });
    expect(check.check({ n: 10 }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ n: '9.5' }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ n: 10.5 }, 2)).toEqual({
      action: 'reject',
      reason: "record 2: quality[0] (max on 'n') failed: 10.5 is above 10",
    });
    expect(check.check({ n: '11' }, 3)).toEqual({
      action: 'reject',
      reason: `record 3: quality[0] (max on 'n') failed: "11" is above 10`,
    });
    expect(check.check({ n: 'many' }, 4)).toEqual({
      action: 'reject',
      reason: `record 4: quality[0] (max on 'n') failed: "many" is not a number`,
    });
    expect(check.check({ n: null }, 5)).toEqual({ action: 'pass' });
  });

  it('compares text with a text bound, so ISO dates sort right', () => {
    const check = stage({ field: 'day', check: 'max', value: '2026-05-01' });
    expect(check.check({ day: '2026-04-30' }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ day: '2026-05-01' }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ day: '2026-05-02' }, 2)).toEqual({
      action: 'reject',
      reason: `record 2: quality[0] (max on 'day') failed: "2026-05-02" is above 2026-05-01`,
    });
  });

  it('keeps a record that breaks a warn rule and counts it', () => {
    const check = stage({ field: 'n', check: 'max', value: 1, onFailure: 'warn' });
    expect(check.check({ n: 2 }, 9)).toEqual({ action: 'pass' });
    expect(check.warned).toBe(1);
    expect(check.warnReasons).toEqual(["record 9: quality[0] (max on 'n') failed: 2 is above 1"]);
  });
});

describe('quality check oneOf', () => {
  const check = stage({ field: 'status', check: 'oneOf', values: ['open', 'closed', 3, true] });

  it('passes the listed values exactly, and null', () => {
    for (const value of ['open', 'closed', 3, 3n, true, null]) {
      expect(check.check({ status: value }, 1)).toEqual({ action: 'pass' });
    }
  });

  it('rejects anything else, text that looks like a listed number included', () => {
    expect(check.check({ status: 'Open' }, 2)).toEqual({
      action: 'reject',
      reason:
        `record 2: quality[0] (oneOf on 'status') failed: "Open" is not one of ` +
        `["open","closed",3,true]`,
    });
    expect(check.check({ status: '3' }, 3)).toMatchObject({ action: 'reject' });
    expect(check.check({ status: 1 }, 4)).toMatchObject({ action: 'reject' });
  });
});

describe('quality check pattern', () => {
  it('passes a value that matches anywhere, as RegExp.test does, and rejects one that does not', () => {
    const check = stage({ field: 'code', check: 'pattern', pattern: '[A-Z]{2}-\\d+' });
    expect(check.check({ code: 'order FR-12 shipped' }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ code: 12 }, 2)).toEqual({
      action: 'reject',
      reason: `record 2: quality[0] (pattern on 'code') failed: 12 does not match /[A-Z]{2}-\\d+/`,
    });
    expect(check.check({ code: null }, 3)).toEqual({ action: 'pass' });
  });

  it('anchors with ^ and $ at the ends of the value only, as RegExp does without flags', () => {
    const check = stage({ field: 'day', check: 'pattern', pattern: '^\\d{4}-\\d{2}-\\d{2}$' });
    expect(check.check({ day: '2026-05-01' }, 1)).toEqual({ action: 'pass' });
    expect(check.check({ day: '2026-05-01\nDROP' }, 2)).toMatchObject({ action: 'reject' });
    expect(check.check({ day: 'x\n2026-05-01' }, 3)).toMatchObject({ action: 'reject' });
  });
});
