import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StagingProgress } from './staging-progress.js';
import { readStagedBatches, type StagedBatch } from './staging-reader.js';

let scratch: string;
let file: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'tapline-staging-'));
  file = path.join(scratch, 'run.ndjson');
});
afterEach(() => rmSync(scratch, { recursive: true, force: true }));

async function readAll(batches: AsyncGenerator<StagedBatch>): Promise<StagedBatch[]> {
  const all: StagedBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

describe('readStagedBatches', () => {
  it('closes a batch at the row limit or the byte limit, whichever comes first', async () => {
    const small = Array.from({ length: 5 }, (_, id) => JSON.stringify({ id }));
    const large = Array.from({ length: 3 }, (_, id) => JSON.stringify({ id, pad: 'x'.repeat(90) }));
    writeFileSync(file, `${[...small, ...large].join('\n')}\n`);

    const batches = await readAll(readStagedBatches(file, { limits: { rows: 2, bytes: 150 } }));

    expect(batches.map((batch) => batch.records.length)).toEqual([2, 2, 2, 2]);
    expect(batches.map((batch) => batch.lines)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    // Lines of 9 and 108 bytes: the line that passes 150 bytes closes its batch.
    expect(batches.map((batch) => batch.bytes)).toEqual([18, 18, 9 + 108, 108 + 108]);
  });

  it('reads integers past 2^53 exactly and refuses lines that are not objects', async () => {
    writeFileSync(file, '{"id": 2033735037361704962}\nnot json\n[1, 2]\n"text"\n');

    const [batch] = await readAll(readStagedBatches(file));

    expect(batch!.records).toEqual([{ id: 2033735037361704962n }]);
    expect(batch!.refused.map((refused) => refused.line)).toEqual([2, 4]);
    expect(batch!.refused[1]!.reason).toBe('record 4: not a JSON object');
  });

  it('numbers lines across blank lines and reads multi-byte text exactly', async () => {
    writeFileSync(file, '{"city": "Zürich"}\n\n  \r\n{"city": "東京", "note": "é\\n🚀"}\r\n');

    const [batch] = await readAll(readStagedBatches(file));

    expect(batch!.records).toEqual([{ city: 'Zürich' }, { city: '東京', note: 'é\n🚀' }]);
    expect(batch!.lines).toEqual([1, 4]);
    expect(batch!.bytes).toBe(readFileSync(file).length);
  });

  it('follows a file its run is still writing, a line cut mid-way included', async () => {
    writeFileSync(file, '');
    const progress = new StagingProgress();
    const seen: number[] = [];
    const reading = (async () => {
      const source = { progress, limits: { rows: 1, bytes: 1024 } };
      for await (const batch of readStagedBatches(file, source)) {
        seen.push(...batch.records.map((record) => record.id as number));
      }
    })();
    const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

    appendFileSync(file, '{"id": 1}\n{"id"');
    progress.advance(15);
    await settle();
    expect(seen).toEqual([1]);

    appendFileSync(file, ': 2}\n{"id": 3}\n');
    progress.advance(30);
    await settle();
    expect(seen).toEqual([1, 2, 3]);

    progress.end(30);
    await reading;
    expect(seen).toEqual([1, 2, 3]);
  });

  it('stops waiting for more of a growing file when its signal aborts', async () => {
    writeFileSync(file, '{"id": 1}\n');
    const progress = new StagingProgress();
    progress.advance(10);
    const stop = new AbortController();
    const reading = readAll(readStagedBatches(file, { progress, signal: stop.signal }));

    stop.abort('the run failed');

    await expect(reading).rejects.toBe('the run failed');
  });
});
