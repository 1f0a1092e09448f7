import Database from 'better-sqlite3';

/**
 * A sqlite load commits without checkpointing: copying a large job's write-ahead log into the
 * database file takes a fifth of the load's time, and nothing about the job's outcome waits for
 * it. The loader's connection has `wal_autocheckpoint = 0`, and since SQLite checkpoints when the
 * last connection to a file closes, a keeper connection stays open until the checkpoint is done:
 * once the job has been reported done (`runCheckpoints`, called by the queue), and at the latest
 * when the next load of the same warehouse opens it, so the log cannot grow without bound.
 */
const keepers = new Map<string, Database.Database>();

/** Called right after a commit, while the loader's own connection is still open. */
export function checkpointLater(file: string): void {
  if (keepers.has(file)) return;
  try {
    const keeper = new Database(file, { fileMustExist: true });
    // A connection joins the log at its first read, not when it opens.
    keeper.prepare('SELECT count(*) FROM sqlite_master').get();
    keepers.set(file, keeper);
  } catch {
    // Without a keeper the loader's close checkpoints, as SQLite does by default.
  }
}

/** Checkpoints every warehouse a finished load left waiting; never throws. */
export function runCheckpoints(): void {
  for (const file of [...keepers.keys()]) checkpointNow(file);
}

/** Checkpoints `file` if a load left it waiting, on `db` when given (a connection to it). */
export function checkpointNow(file: string, db?: Database.Database): void {
  const keeper = keepers.get(file);
  if (keeper === undefined) return;
  keepers.delete(file);
  try {
    // PASSIVE copies what no reader still needs and never waits for a lock.
    (db ?? keeper).pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint missed now is done by the next one, or by the last connection's close.
  } finally {
    keeper.close();
  }
}
