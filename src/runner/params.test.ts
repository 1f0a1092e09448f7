import { describe, expect, it } from 'vitest';
import { invalidParamKey, isParamKey, ParamKeyError, paramEnv, paramText } from './params.js';

describe('params', () => {
  it('accepts identifiers and refuses the rest', () => {
    expect(['since', '_x', 'A1_b'].map(isParamKey)).toEqual([true, true, true]);
    expect(['1a', 'a-b', 'a b', '', 'é'].map(isParamKey)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(invalidParamKey({ since: 1, 'bad-key': 2 })).toBe('bad-key');
    expect(invalidParamKey({ since: 1 })).toBeUndefined();
  });

  it('turns values into the text a script reads', () => {
    expect(paramText('2026-05-01')).toBe('2026-05-01');
    expect(paramText(5)).toBe('5');
    expect(paramText(2.5)).toBe('2.5');
    expect(paramText(true)).toBe('true');
    expect(paramText(false)).toBe('false');
    expect(paramText(null)).toBe('');
    expect(paramText(2033735037361704962n)).toBe('2033735037361704962');
    expect(paramText({ a: [1, 2], id: 2033735037361704962n })).toBe(
      '{"a":[1,2],"id":2033735037361704962}',
    );
    expect(paramText(['x', null])).toBe('["x",null]');
  });

  it('sets both the TAP_PARAM_ and DATRIS_TAP_PARAM_ names', () => {
    expect(paramEnv({ since: '2026-05-01', n: 5 })).toEqual({
      TAP_PARAM_since: '2026-05-01',
      DATRIS_TAP_PARAM_since: '2026-05-01',
      TAP_PARAM_n: '5',
      DATRIS_TAP_PARAM_n: '5',
    });
    expect(() => paramEnv({ 'x=y': 1 })).toThrow(ParamKeyError);
  });
});
