import { describe, expect, it } from 'vitest';
import { LogCapture } from './log-capture.js';

function capture(limit: number, ...chunks: string[]): string {
  const logs = new LogCapture(limit);
  for (const chunk of chunks) logs.write(Buffer.from(chunk));
  return logs.text();
}

describe('LogCapture', () => {
  it('keeps everything that fits', () => {
    expect(capture(100, 'one\n', 'two\n')).toBe('one\ntwo\n');
  });

  it('cuts the middle at line breaks and says how many bytes went', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${String(i).padStart(2, '0')}\n`);
    const text = capture(264, ...lines);
    // 264 - 64 leaves 100 bytes each for head and tail: 12 whole lines of 8 bytes each.
    expect(text).toBe(
      lines.slice(0, 12).join('') +
        '[... 208 bytes of logs cut here ...]\n' +
        lines.slice(38).join(''),
    );
  });

  it('never splits a character when there is no line break to cut at', () => {
    const text = capture(64 + 10, 'é'.repeat(200));
    const [head, tail] = text.split(/\n\[\.\.\. \d+ bytes of logs cut here \.\.\.\]\n/);
    expect(head).toBe('é'.repeat(2));
    expect(tail).toBe('é'.repeat(2));
    expect(text).not.toContain('\ufffd');
  });

  it('holds about the budget however much is written', () => {
    const logs = new LogCapture(1000);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 1000; i++) logs.write(chunk);
    expect(logs.totalBytes).toBe(64 * 1024 * 1000);
    expect(Buffer.byteLength(logs.text())).toBeLessThanOrEqual(1000);
  });
});
