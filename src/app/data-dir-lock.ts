import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StartupError } from './startup-error.js';
import { dataDirLayout } from '../config/data-dir-layout.js';

/**
 * One embedded server per data directory: two would both recover "abandoned" runs and jobs
 * that the other is still working on.
 *
 * The lock is an exclusive transaction held open on a small SQLite file for the server's life.
 * SQLite takes it as an operating-system file lock, which the kernel drops the moment the
 * process ends, however it ends: a server restarted after SIGKILL or a power cut starts at
 * once, with no stale lock to wait out and no pid that might have been reused.
 */
export function lockDataDir(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, dataDirLayout.lock);
  const lock = new Database(lockPath, { timeout: 0 });
  try {
    lock.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    lock.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    throw new StartupError(
      `another tapline server is using ${dataDir} (lock ${lockPath}); stop it, or give ` +
        'this one its own --data-dir',
    );
  }
  return () => {
    lock.exec('ROLLBACK');
    lock.close();
  };
}
