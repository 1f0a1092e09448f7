/**
 * Measures the lines of one printed stream as it arrives, without keeping any of it: a line
 * may span many chunks, so the length of the current one is carried from chunk to chunk.
 *
 * A carriage return ends a line as a newline does: progress bars (tqdm and the like) redraw
 * one line with `\r` for the whole run, and that line is never long on a screen.
 */

const newline = 0x0a;
const carriageReturn = 0x0d;

export class LogLineLength {
  private current = 0;
  private longestSeen = 0;

  /** Bytes of the longest line so far, the unfinished one included, line breaks excluded. */
  get longest(): number {
    return this.longestSeen;
  }

  write(chunk: Buffer): void {
    let start = 0;
    // Both searches move forward only, so a chunk is scanned about twice, never more.
    let nextNewline = chunk.indexOf(newline);
    let nextReturn = chunk.indexOf(carriageReturn);
    for (;;) {
      if (nextNewline !== -1 && nextNewline < start) nextNewline = chunk.indexOf(newline, start);
      if (nextReturn !== -1 && nextReturn < start) {
        nextReturn = chunk.indexOf(carriageReturn, start);
      }
      const end =
        nextNewline === -1 || (nextReturn !== -1 && nextReturn < nextNewline)
          ? nextReturn
          : nextNewline;
      if (end === -1) {
        this.current += chunk.length - start;
        this.longestSeen = Math.max(this.longestSeen, this.current);
        return;
      }
      this.current += end - start;
      this.longestSeen = Math.max(this.longestSeen, this.current);
      this.current = 0;
      start = end + 1;
    }
  }
}
