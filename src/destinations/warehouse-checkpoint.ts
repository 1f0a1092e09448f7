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
 * of the same warehouse opens it (`checkpointSoon`). That load waits for the copy before its
 * first write: a write that began while the old log was still needed would append to it, and
 * back-to-back loads would grow the log without bound instead of restarting it.
 */
const keepers = new Map<string, Database.Database>();
/** Checkpoints started and not yet done, by file. */
const running = new Map<string, Promise<void>>();

let worker: CheckpointWorker | undefined;

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
  if (worker === undefined) {
    const started = new CheckpointWorker(() => {
      if (worker === started) worker = undefined;
    });
    worker = started;
  }
  return worker.checkpoint(file);
}

/**
 * One worker thread and the checkpoints it owes answers for. It holds the process open only
 * while a checkpoint is in flight, so an idle one never delays an exit, and a stopping server
 * (which awaits runCheckpoints) is not left to exit half-way through a copy.
 */
class CheckpointWorker {
  private readonly thread = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url));
  private readonly replies = new Map<number, (ok: boolean) => void>();
  private nextId = 0;
  private gone = false;

  constructor(onLost: () => void) {
    this.thread.on('message', ({ id, ok }: { id: number; ok: boolean }) => {
      this.replies.get(id)?.(ok);
      this.replies.delete(id);
      if (this.replies.size === 0) this.thread.unref();
    });
    const lost = () => {
      if (this.gone) return;
      this.gone = true;
      onLost();
      // Each keeper then closes on this thread, and that close does the copy itself.
      for (const reply of this.replies.values()) reply(false);
      this.replies.clear();
      this.thread.unref();
    };
    this.thread.on('error', lost);
    this.thread.on('exit', lost);
    this.thread.unref();
  }

  checkpoint(file: string): Promise<boolean> {
    if (this.gone) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.replies.set(id, resolve);
      this.thread.ref();
      this.thread.postMessage({ id, file });
    });
  }
}

function closeQuietly(db: Database.Database): void {
  try {
    db.close();
  } catch {
    // A checkpoint missed now is done by the next one, or by the last connection's close.
  }
}
