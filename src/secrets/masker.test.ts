import { describe, expect, it } from 'vitest';
import { Masker } from './masker.js';

describe('Masker', () => {
  const masker = new Masker(['sk_live_9f8e7d6c5b4a', 'p@ss"w/rd\\x', 'abc']);

  it('masks a value in every form a script may print it in', () => {
    const value = 'sk_live_9f8e7d6c5b4a';
    const printed = [
      `key=${value}`,
      `url=${encodeURIComponent(`${value}/?&`)}`,
      `b64=${Buffer.from(value).toString('base64')}`,
      `b64url=${Buffer.from(value).toString('base64url')}`,
    ].join('\n');
    expect(masker.mask(printed)).toBe(
      ['key=****', 'url=****%2F%3F%26', 'b64=****', 'b64url=****'].join('\n'),
    );
  });

  it('masks a value escaped inside JSON text and Python reprs', () => {
    expect(masker.mask(JSON.stringify({ password: 'p@ss"w/rd\\x' }))).toBe('{"password":"****"}');
    expect(masker.mask(`{'password': 'p@ss"w/rd\\\\x'}`)).toBe(`{'password': '****'}`);
  });

  it('leaves values shorter than four characters alone, and text without secrets unchanged', () => {
    expect(masker.mask('abc is a common word')).toBe('abc is a common word');
    expect(masker.mask(null)).toBeNull();
    expect(new Masker([]).mask('anything')).toBe('anything');
  });

  it('masks strings inside records and nested values', () => {
    expect(masker.maskDeep({ a: ['x sk_live_9f8e7d6c5b4a y', 1, null], b: { c: true } })).toEqual({
      a: ['x **** y', 1, null],
      b: { c: true },
    });
  });
});
