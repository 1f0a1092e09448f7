import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * A sqlite load commits without checkpointing: copying a large job's write-ahead log into the
 * database file takes a fifth of the load's time, and nothing about the job's outcome waits for
 * it. The loader's connection has `wal_autocheckpoint = 0`, and since SQLite checkpoints when the
 * last connection to a file closes, a keeper connection opens right after the commit and stays
 * open until the checkpoint is done. The copy itself runs on a worker thread
 * (checkpoint-worker.mjs), so the event loop keeps answering while it goes on. It starts once
 * the job has been reported done (`runCheckpoints`, called by the queue), or when the next load
 * of the same warehouse opens it (`checkpointSoon`), so the log cannot grow without bound.
 */
const keepers = new Map<string, Database.Database>();
/** Checkpoints started and not yet done, by file. */
const running = new Map<string, Promise<void>>();

let worker: Worker | undefined;
let nextId = 0;
const replies = new Map<number, (ok: boolean) => void>();

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

/** Starts the checkpoint of every warehouse a finished load left waiting; never rejects. */
export async function runCheckpoints(): Promise<void> {
  await Promise.all([...keepers.keys()].map((file) => checkpointSoon(file)));
  await Promise.all(running.values());
}

/** Starts the checkpoint of `file` if a load left it waiting; resolves once it is done. */
export function checkpointSoon(file: string): Promise<void> {
  const keeper = keepers.get(file);
  if (keeper === undefined) return running.get(file) ?? Promise.resolve();
  keepers.delete(file);
  const done = checkpointOnWorker(file).then(() => {
    if (running.get(file) === done) running.delete(file);
    // The log is copied; closing the last connection now only removes it. When the worker
    // could not checkpoint, this close does the copy itself, on this thread.
    closeQuietly(keeper);
  });
  running.set(file, done);
  return done;
}

function checkpointOnWorker(file: string): Promise<boolean> {
  const id = nextId++;
  return new Promise((resolve) => {
    replies.set(id, resolve);
    try {
      checkpointWorker().postMessage({ id, file });
    } catch {
      replies.delete(id);
      resolve(false);
    }
  });
}

function checkpointWorker(): Worker {
  if (worker !== undefined) return worker;
  const started = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url));
  // An idle checkpointer never keeps the process alive; runCheckpoints waits for busy ones.
  started.unref();
  started.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
    replies.get(id)?.(ok);
    replies.delete(id);
  });
  const lost = () => {
    worker = undefined;
    for (const reply of replies.values()) reply(false);
    replies.clear();
  };
  started.on('error', lost);
  started.on('exit', lost);
  worker = started;
  return started;
}

function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    // A checkpoint missed now is done by the next one, or by the last connection's close.
  }
}
