/**
 * One writer per warehouse file inside this process. A sqlite load holds its write transaction
 * for the whole job, and better-sqlite3 waits for a busy database synchronously, which would
 * freeze the event loop; queueing here keeps the second job waiting without blocking anything.
 * Other processes are held off by SQLite's own lock and the busy timeout.
 */
const tails = new Map<string, Promise<void>>();

export async function lockWarehouse(file: string): Promise<() => void> {
  const previous = tails.get(file) ?? Promise.resolve();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => held);
  tails.set(file, tail);
  await previous;

  let released = false;
  return () => {
    if (released) return;
    released = true;
    release();
    if (tails.get(file) === tail) tails.delete(file);
  };
}
