import { describe, expect, it } from 'vitest';
import { pipelineSchema } from './pipeline-schema.js';
import { createTransform } from './transform.js';

function transform(options: Record<string, unknown>) {
  const pipeline = pipelineSchema.parse({
    name: 'p',
    transform: options,
    destinations: [{ type: 'sqlite', table: 't' }],
  });
  return createTransform(pipeline.transform!);
}

describe('transform emptyStringsAsNull', () => {
  it('turns "" into null and leaves every other value as it was', () => {
    const apply = transform({ emptyStringsAsNull: true });
    expect(
      apply({ a: '', b: ' ', c: 'x', d: 0, e: false, f: null, g: [''], h: { i: '' } }),
    ).toEqual({ a: null, b: ' ', c: 'x', d: 0, e: false, f: null, g: [''], h: { i: '' } });
  });

  it('runs after trimStrings, so text of spaces becomes null too', () => {
    const apply = transform({ emptyStringsAsNull: true, trimStrings: true });
    expect(apply({ a: '   ', b: ' x ', c: '' })).toEqual({ a: null, b: 'x', c: null });
  });

  it('runs before rename, so the renamed key carries the null', () => {
    const apply = transform({ emptyStringsAsNull: true, rename: { a: 'b' } });
    expect(apply({ a: '' })).toEqual({ b: null });
  });

  it('is off by default: "" stays', () => {
    expect(transform({ trimStrings: true })({ a: '  ' })).toEqual({ a: '' });
  });
});
