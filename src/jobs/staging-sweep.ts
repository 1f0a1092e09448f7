import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { MetadataStore } from '../store/store.js';
import { dataDirLayout } from '../config/data-dir-layout.js';

/**
 * Removes staging files no job needs: those of runs a stopped server left unfinished (their
 * records were never handed to a job), half-split document runs, and files of jobs that had
 * succeeded when the server stopped. Run at start, before any run or job can stage anything.
 */
export async function removeOrphanStaging(dataDir: string, store: MetadataStore): Promise<number> {
  const directory = path.join(dataDir, dataDirLayout.staging);
  const names = await readdir(directory).catch(() => [] as string[]);
  if (names.length === 0) return 0;
  const needed = new Set(
    (await store.jobs.pendingStagingPaths()).map((file) => path.resolve(file)),
  );
  let removed = 0;
  for (const name of names) {
    const file = path.resolve(directory, name);
    if (needed.has(file)) continue;
    await rm(file, { force: true, recursive: true });
    removed += 1;
  }
  return removed;
}
