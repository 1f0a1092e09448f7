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

/** Waits for the warehouse; resolves with the function that releases it. */
export async function lockWarehouse(file: string): Promise<() => void> {
  const queue = claims.get(file) ?? [];
  claims.set(file, queue);
  let granted!: () => void;
  const turn = new Promise<void>((resolve) => (granted = resolve));
  const claim: Claim = { granted, onWanted: undefined };
  queue.push(claim);
  if (queue.length === 1) granted();
  else for (const ahead of queue) if (ahead !== claim) ahead.onWanted?.();
  await turn;
  return releaser(file, claim);
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
