// The worker thread of warehouse-checkpoint.ts: copies a warehouse's write-ahead log into its
// database file, so that work (a fifth of a large load's time) never stalls the event loop.
// Plain JavaScript, like harness.py beside spawn.ts: a worker thread loads a file as Node finds
// it, and the tests run the sources, so this one needs no build step to run.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';

parentPort.on('message', ({ id, file }) => {
  let ok = true;
  try {
    const db = new Database(file, { fileMustExist: true });
    try {
      // PASSIVE copies what no reader still needs and never waits for a lock.
      db.pragma('wal_checkpoint(PASSIVE)');
    } finally {
      db.close();
    }
  } catch {
    // The keeper's close does the checkpoint instead (warehouse-checkpoint.ts).
    ok = false;
  }
  parentPort.postMessage({ id, ok });
});
