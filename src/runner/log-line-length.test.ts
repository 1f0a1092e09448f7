import { describe, expect, it } from 'vitest';
import { LogLineLength } from './log-line-length.js';

function longest(...chunks: string[]): number {
  const lines = new LogLineLength();
  for (const chunk of chunks) lines.write(Buffer.from(chunk));
  return lines.longest;
}

describe('LogLineLength', () => {
  it('measures the longest line, line breaks excluded', () => {
    expect(longest('one\nthree\ntwo\n')).toBe(5);
  });

  it('carries a line across chunks', () => {
    expect(longest('ab', 'cdef', 'g\nhi')).toBe(7);
  });

  it('counts the unfinished last line', () => {
    expect(longest('a\n', 'bcdefgh')).toBe(7);
  });

  it('ends a line at a carriage return too', () => {
    expect(longest('\r10%', '\r20%', '\r100%\r\n')).toBe(4);
  });

  it('counts bytes, not characters', () => {
    expect(longest('é€\n')).toBe(5);
  });
});
