/**
 * Keeps what a script prints within a byte budget: the head and the tail survive, the middle is
 * replaced by one line saying how many bytes were cut. Memory stays near the budget however
 * much the script prints, since the tail is a window that drops old chunks as new ones come.
 */

/** Room kept for the cut line, so head + line + tail stays within the budget. */
const cutLineRoom = 64;
/** How far back from a cut we look for a line break to cut at instead. */
const lineSearch = 1024;

export class LogCapture {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private total = 0;

  constructor(private readonly limitBytes: number) {
    const room = Math.max(limitBytes - cutLineRoom, 0);
    this.headLimit = Math.ceil(room / 2);
    this.tailLimit = room - this.headLimit;
  }

  get totalBytes(): number {
    return this.total;
  }

  write(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.headBytes < this.headLimit) {
      const take = Math.min(chunk.length, this.headLimit - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    this.trimTail();
  }

  /** The captured text: everything when it fit, else head, the cut line and tail. */
  text(): string {
    const head = Buffer.concat(this.head);
    const tail = Buffer.concat(this.tail);
    if (this.total <= this.limitBytes) return Buffer.concat([head, tail]).toString('utf8');

    const headEnd = cutPoint(head, head.length, 'back');
    const tailStart = cutPoint(tail, 0, 'forward');
    const kept = head.subarray(0, headEnd);
    const end = tail.subarray(tailStart);
    const cut = this.total - kept.length - end.length;
    const line = `[... ${cut} bytes of logs cut here ...]\n`;
    const before = kept.length > 0 && kept[kept.length - 1] !== 0x0a ? '\n' : '';
    return kept.toString('utf8') + before + line + end.toString('utf8');
  }

  /** Drops whole chunks from the front of the tail, then slices the first one to fit. */
  private trimTail(): void {
    while (this.tailBytes > this.tailLimit) {
      const first = this.tail[0]!;
      const excess = this.tailBytes - this.tailLimit;
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
      } else {
        // Copy, so the dropped part of a large chunk is not kept alive by the slice.
        this.tail[0] = Buffer.from(first.subarray(excess));
        this.tailBytes -= excess;
      }
    }
  }
}

/**
 * Where to cut a buffer near `at`: just after a nearby line break when there is one, else at a
 * UTF-8 character boundary so no character is split in two.
 */
function cutPoint(buffer: Buffer, at: number, direction: 'back' | 'forward'): number {
  if (direction === 'back') {
    const newline = buffer.lastIndexOf(0x0a, at - 1);
    if (newline >= 0 && at - newline <= lineSearch) return newline + 1;
    return wholeCharactersEnd(buffer, at);
  }
  const newline = buffer.indexOf(0x0a, at);
  if (newline >= 0 && newline - at < lineSearch) return newline + 1;
  let index = at;
  while (index < buffer.length && isContinuation(buffer[index]!)) index++;
  return index;
}

/** `end`, moved back to the start of a character that `end` would split. */
function wholeCharactersEnd(buffer: Buffer, end: number): number {
  let lead = end - 1;
  while (lead > 0 && end - lead < 4 && isContinuation(buffer[lead]!)) lead--;
  if (lead < 0) return end;
  const byte = buffer[lead]!;
  const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return lead + length <= end ? end : lead;
}

function isContinuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}
