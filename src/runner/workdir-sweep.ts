/**
 * Names each run's working directory for the process that made it, and removes the ones a dead
 * process left behind. spawn.ts removes a run's directory when the run ends, but a server killed
 * with SIGKILL, or a machine that crashed, leaves it in the temp folder for good. Several
 * servers (other data directories, other users) may share that folder, so a directory goes only
 * once the process named in it is gone; see process-alive.ts for where that can be wrong.
 */

import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isAlive } from './process-alive.js';

/**
 * Names without a pid (`tapline-run-XXXXXX`, from tapline before the pid was added) never
 * match, so they are left alone: nothing tells whether their server still runs, and age does
 * not either, since a run may last as long as its timeout allows and writing files inside
 * leaves the directory's own mtime as it was. A few leftovers cost less than a live run's
 * directory removed under it; the system's temp cleaner (systemd-tmpfiles) ages them out.
 */
const ownedName = /^tapline-run-([1-9]\d*)-[A-Za-z0-9]+$/;

/** The mkdtemp prefix of this process's run directories: `tapline-run-<pid>-`. */
export function workdirPrefix(): string {
  return `tapline-run-${process.pid}-`;
}

export interface WorkdirSweep {
  removed: number;
  /** Directories that could not be removed, and why; the next start tries them again. */
  failed: { directory: string; error: string }[];
}

/**
 * Removes the run directories in `tempDir` whose process is gone. Run at start; a directory
 * of this process, or of any live one, is kept. A script process that escaped its run and
 * outlived a killed server loses its directory: its run ended with that server.
 */
export async function removeOrphanWorkdirs(tempDir: string): Promise<WorkdirSweep> {
  const sweep: WorkdirSweep = { removed: 0, failed: [] };
  const names = await readdir(tempDir).catch(() => [] as string[]);
  const uid = process.getuid?.();
  for (const name of names) {
    const owner = Number(ownedName.exec(name)?.[1]);
    if (!Number.isInteger(owner) || isAlive(owner)) continue;

    // Another user's directories are left to that user's servers: in a sticky /tmp this one
    // could not remove them, and would warn about them at every start.
    const directory = path.join(tempDir, name);
    const stats = await lstat(directory).catch(() => null);
    if (stats === null || !stats.isDirectory()) continue;
    if (uid !== undefined && stats.uid !== uid) continue;

    try {
      await rm(directory, { recursive: true, force: true, maxRetries: 3 });
      sweep.removed += 1;
    } catch (error) {
      sweep.failed.push({ directory, error: (error as Error).message });
    }
  }
  return sweep;
}
