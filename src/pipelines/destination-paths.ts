import { realpathSync } from 'node:fs';
import path from 'node:path';
import { dataDirLayout } from '../config/data-dir-layout.js';

/**
 * The data directory holds tapline's own files beside the warehouses. A sqlite destination
 * pointed at tapline.db would load rows into the metadata store (taps, state, sealed secrets),
 * and a file under staging/ would be read, or swept, as a run's staged records; so no
 * destination may write them. Pipelines are checked when saved (`destinationPathProblem`), and
 * loaders check again with the data directory known (`taplineFileProblem`), for pipelines that
 * did not pass through a save and for absolute paths into the data directory.
 */

const stagingFolder = dataDirLayout.staging;

/** tapline's files directly in the data directory, by lowercased name: what each one is. */
const taplineFiles = new Map<string, string>();
for (const [name, role] of [
  [dataDirLayout.metadata, "tapline's metadata database"],
  [dataDirLayout.lock, "tapline's data directory lock"],
] as const) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) taplineFiles.set(name + suffix, role);
}
taplineFiles.set(dataDirLayout.secretKey, "tapline's secret key file");

/**
 * Why a destination's path, as written in a pipeline, is refused; null when it may be used.
 * Absolute paths outside the data directory stay allowed: a warehouse may live in /data.
 */
export function destinationPathProblem(written: string, kind: 'sqlite' | 'file'): string | null {
  const segments = written.split(/[\\/]+/);
  if (segments.includes('..')) {
    return (
      "a path may not contain a '..' segment; write it inside the data directory without '..', " +
      'or as an absolute path'
    );
  }

  const first = segments.find((segment) => segment !== '' && segment !== '.');
  if (!path.isAbsolute(written) && first?.toLowerCase() === stagingFolder) {
    return 'staging/ holds the records tapline stages for its jobs; choose a path outside it';
  }

  const name = path.basename(written);
  const role = kind === 'sqlite' ? taplineFiles.get(name.toLowerCase()) : undefined;
  if (role !== undefined) {
    return `'${name}' is the name of ${role}; give the warehouse a file name of its own`;
  }
  return null;
}

/**
 * Why a loader may not write `target` (a resolved path) given the data directory, or null.
 * Symbolic links are followed as far as the path exists.
 */
export function taplineFileProblem(target: string, dataDir: string): string | null {
  const real = realPath(target);
  const home = realPath(dataDir);
  const staging = path.join(home, stagingFolder);
  if (real === staging || real.startsWith(staging + path.sep)) {
    return (
      `refusing to load into ${target}: it is inside ${staging}, where tapline stages the ` +
      "records of runs; set the destination's path outside it"
    );
  }

  const role =
    path.dirname(real) === home ? taplineFiles.get(path.basename(real).toLowerCase()) : undefined;
  if (role !== undefined) {
    return (
      `refusing to load into ${target}: it is ${role}; set the destination's path to a file ` +
      'of its own'
    );
  }
  return null;
}

/** The path with its symbolic links resolved, for the part of it that exists. */
function realPath(target: string): string {
  let existing = path.resolve(target);
  const missing: string[] = [];
  for (;;) {
    try {
      return path.join(realpathSync(existing), ...missing);
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return path.resolve(target);
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }
}
