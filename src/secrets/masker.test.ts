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

  it('masks a value however a library URL-encodes it', () => {
    const masked = new Masker(['p@ss/w*rd(1) é']);
    const printed = [
      'p%40ss/w%2Ard%281%29%20%C3%A9', // Python's urllib.parse.quote
      'p%40ss%2Fw%2Ard%281%29+%C3%A9', // quote_plus
      'p%40ss%2fw%2ard%281%29%20%c3%a9', // lowercase hex
      encodeURIComponent('p@ss/w*rd(1) é'),
    ];
    expect(printed.map((text) => masked.mask(`[${text}]`))).toEqual([
      '[****]',
      '[****]',
      '[****]',
      '[****]',
    ]);
  });

  it('masks a value base64-encoded inside a longer text, at any offset', () => {
    const masked = new Masker(['hunter2!']);
    for (const user of ['a', 'ab', 'abc']) {
      const header = Buffer.from(`${user}:hunter2!`).toString('base64');
      const shown = masked.mask(header);
      expect(shown).toContain('****');
      // What is left shows the user part only: too few characters to hold the password.
      expect(shown.replace('****', '').length).toBeLessThanOrEqual(6);
    }
    expect(masked.mask(Buffer.from('ada:hunter2!').toString('base64'))).toBe('YWRhOm****');
  });

  it('masks tapline API keys by their shape, though only their hashes are stored', () => {
    const key = 'tl_' + 'A1b2_C3d4-'.repeat(4) + 'xyz';
    expect(new Masker([]).mask(`x-api-key: ${key}`)).toBe('x-api-key: ****');
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

  it('learns values added later, keeping the earlier ones', () => {
    const learning = new Masker(['first-value']);
    expect(learning.mask('second-value')).toBe('second-value');
    learning.add(['second-value', 'no']);
    expect(learning.mask('first-value second-value no')).toBe('**** **** no');
  });

  it('masks strings inside records and nested values', () => {
    expect(masker.maskDeep({ a: ['x sk_live_9f8e7d6c5b4a y', 1, null], b: { c: true } })).toEqual({
      a: ['x **** y', 1, null],
      b: { c: true },
    });
  });
});
