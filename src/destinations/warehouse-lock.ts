/**
 * One writer per warehouse file inside this process. A sqlite load holds its write transaction
 * for the whole job, and better-sqlite3 waits for a busy database synchronously, which would
 * freeze the event loop; queueing here keeps the second job waiting without blocking anything.
 * Other processes are held off by SQLite's own lock and the busy timeout.
 */

interface Claim {
  granted: () => void;
  /** Set by a holder that gives the lock up when another load asks for it. */
  onWanted: (() => void) | undefined;
}

/** Per file, the claims in order: the first holds the lock, the rest wait. */
const claims = new Map<string, Claim[]>();

/**
 * Waits for the warehouse; resolves with the function that releases it, or with undefined when
 * `signal` aborts first. A claim given up leaves the queue, so it never holds the lock later
 * and never keeps the loads behind it waiting: a stopping server need not wait for the holder.
 */
export function lockWarehouse(file: string): Promise<() => void>;
export function lockWarehouse(
  file: string,
  signal: AbortSignal | undefined,
): Promise<(() => void) | undefined>;
export async function lockWarehouse(
  file: string,
  signal?: AbortSignal,
): Promise<(() => void) | undefined> {
  if (signal?.aborted) return undefined;
  const queue = claims.get(file) ?? [];
  claims.set(file, queue);
  let settle!: (ours: boolean) => void;
  const turn = new Promise<boolean>((resolve) => (settle = resolve));
  const claim: Claim = { granted: () => settle(true), onWanted: undefined };
  queue.push(claim);
  if (queue.length === 1) claim.granted();
  else for (const ahead of queue) if (ahead !== claim) ahead.onWanted?.();

  // A claim at the head has been granted already; it is released below instead.
  const giveUp = () => {
    if (queue[0] === claim) return;
    queue.splice(queue.indexOf(claim), 1);
    settle(false);
  };
  signal?.addEventListener('abort', giveUp, { once: true });
  const ours = await turn;
  signal?.removeEventListener('abort', giveUp);
  if (!ours) return undefined;

  const release = releaser(file, claim);
  // Granted in the same tick as the abort: the load is stopping, so the next one goes first.
  if (signal?.aborted) {
    release();
    return undefined;
  }
  return release;
}

/**
 * Takes the warehouse only when no load holds it or waits for it: undefined otherwise.
 * `onWanted` is called when another load starts waiting for it, so the holder can let go.
 */
export function tryLockWarehouse(file: string, onWanted: () => void): (() => void) | undefined {
  if ((claims.get(file)?.length ?? 0) > 0) return undefined;
  const claim: Claim = { granted: () => undefined, onWanted };
  claims.set(file, [claim]);
  return releaser(file, claim);
}

function releaser(file: string, claim: Claim): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const queue = claims.get(file)!;
    queue.splice(queue.indexOf(claim), 1);
    if (queue.length === 0) claims.delete(file);
    else queue[0]!.granted();
  };
}
