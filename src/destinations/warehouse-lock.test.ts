import { setImmediate as settle } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { lockWarehouse, tryLockWarehouse } from './warehouse-lock.js';

/** The claims are per file name; each test takes its own so none sees another's queue. */
let files = 0;
const freshFile = () => `/warehouse-lock-test/${++files}.db`;

/** Whether no load holds or waits for the file: the lock is taken and given back at once. */
function isFree(file: string): boolean {
  const release = tryLockWarehouse(file, () => undefined);
  release?.();
  return release !== undefined;
}

/** Whether the promise has settled once the pending callbacks have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await settle();
  return settled;
}

describe('lockWarehouse', () => {
  it('grants the lock in order of asking', async () => {
    const file = freshFile();
    const releaseFirst = await lockWarehouse(file);
    const second = lockWarehouse(file);
    expect(await isSettled(second)).toBe(false);

    releaseFirst();

    const releaseSecond = await second;
    expect(isFree(file)).toBe(false);
    releaseSecond();
    expect(isFree(file)).toBe(true);
  });

  it('lets a waiter give up: it gets undefined, and the one behind it is next', async () => {
    const file = freshFile();
    const releaseHolder = await lockWarehouse(file);
    const stop = new AbortController();
    const givenUp = lockWarehouse(file, stop.signal);
    const behind = lockWarehouse(file);

    stop.abort('stopped: the server is shutting down');

    expect(await givenUp).toBeUndefined();
    expect(await isSettled(behind)).toBe(false);
    releaseHolder();
    const releaseBehind = await behind;
    releaseBehind();
    expect(isFree(file)).toBe(true);
  });

  it('gives up at once on a signal already aborted, without asking the holder to let go', async () => {
    const file = freshFile();
    let asked = 0;
    const releaseHolder = tryLockWarehouse(file, () => (asked += 1))!;
    const stop = new AbortController();
    stop.abort();

    expect(await lockWarehouse(file, stop.signal)).toBeUndefined();
    expect(asked).toBe(0);
    releaseHolder();
    // Nothing of the given-up claim is left in the queue.
    expect(isFree(file)).toBe(true);
  });

  it('leaves a granted lock alone when the signal aborts later', async () => {
    const file = freshFile();
    const stop = new AbortController();
    const release = await lockWarehouse(file, stop.signal);
    const behind = lockWarehouse(file);

    stop.abort();

    expect(release).toBeTypeOf('function');
    expect(await isSettled(behind)).toBe(false);
    release!();
    const releaseBehind = await behind;
    releaseBehind();
    expect(isFree(file)).toBe(true);
  });

  it('releases a lock granted in the same tick as the abort', async () => {
    const file = freshFile();
    const releaseHolder = await lockWarehouse(file);
    const stop = new AbortController();
    const waiting = lockWarehouse(file, stop.signal);

    releaseHolder();
    stop.abort();

    expect(await waiting).toBeUndefined();
    expect(isFree(file)).toBe(true);
  });
});
