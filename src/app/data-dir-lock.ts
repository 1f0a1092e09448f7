import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';
import { StartupError } from './startup-error.js';

/**
 * One embedded server per data directory: two would both recover "abandoned" runs and jobs
 * that the other is still working on. The lock is a directory refreshed every few seconds, so
 * a server that died leaves a stale lock the next one takes over.
 */
export async function lockDataDir(dataDir: string, logger: Logger): Promise<() => Promise<void>> {
  mkdirSync(dataDir, { recursive: true });
  const lockfilePath = path.join(dataDir, 'server.lock');
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath,
      stale: 15_000,
      update: 5_000,
      retries: 0,
      onCompromised: (error) =>
        logger.error(
          { err: error, dataDir },
          'lost the data directory lock; another server may start on it',
        ),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    throw new StartupError(
      `another tapline server is using ${dataDir} (lock ${lockfilePath}); stop it, or give ` +
        'this one its own --data-dir',
    );
  }
}
