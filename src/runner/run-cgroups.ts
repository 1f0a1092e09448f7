/**
 * Where tapline makes its per-run cgroups, and how it removes one. Each controller it uses
 * (pids, memory) needs a parent `<this server's cgroup>/tapline`: on cgroup v2 one directory
 * serves both, with the controllers delegated to it; on v1 each controller has its own
 * hierarchy and so its own parent. A run's cgroups are named `<server pid>-<random>`, so a
 * server can tell a dead server's leftovers (removed when it first looks) from a live one's.
 *
 * Not yet bound: a script runs as the server's user, so under root it may write these control
 * files itself, raising its own limits or moving to another cgroup. The cgroups stop scripts
 * that run away, not one that sets out to escape them; that needs scripts to run as a user of
 * their own.
 */

import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from './process-alive.js';

export type CgroupVersion = 1 | 2;
export type CgroupController = 'pids' | 'memory';

export interface CgroupParent {
  version: CgroupVersion;
  /** The directory run cgroups are made in: `<own cgroup>/tapline`. */
  dir: string;
}

const cgroupRoot = '/sys/fs/cgroup';
const parentName = 'tapline';
/** How long killing may take before the cgroup is left for the next server start to clear. */
const killDeadlineMs = 5000;

const parents = new Map<CgroupController, Promise<CgroupParent | null>>();

/** Where this server may make cgroups with `controller`, or null for nowhere. */
export function cgroupParent(controller: CgroupController): Promise<CgroupParent | null> {
  let found = parents.get(controller);
  if (found === undefined) {
    found = findCgroupParent(controller);
    parents.set(controller, found);
  }
  return found;
}

/** A new run cgroup's path under `parent`; unique also across worker threads sharing a pid. */
export function runCgroupDir(parent: CgroupParent): string {
  return path.join(parent.dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
}

async function findCgroupParent(controller: CgroupController): Promise<CgroupParent | null> {
  const own = await ownCgroups();
  const candidates: CgroupParent[] = [];
  if (own.v2 !== undefined && (await controllers(cgroupRoot)).includes(controller)) {
    candidates.push({ version: 2, dir: path.join(cgroupRoot, own.v2, parentName) });
  }
  const v1 = own.v1.get(controller);
  if (v1 !== undefined) {
    candidates.push({ version: 1, dir: path.join(cgroupRoot, controller, v1, parentName) });
  }
  for (const candidate of candidates) {
    if (await prepare(candidate, controller)) {
      await removeStale(candidate.dir);
      return candidate;
    }
  }
  return null;
}

/** This process's cgroup paths: the v2 one, and the v1 one of each controller. */
async function ownCgroups(): Promise<{ v2?: string; v1: Map<string, string> }> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const own: { v2?: string; v1: Map<string, string> } = { v1: new Map() };
  for (const line of text.split('\n')) {
    const [, names, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (names === undefined || cgroupPath === undefined) continue;
    if (names === '') own.v2 = cgroupPath;
    else for (const name of names.split(',')) own.v1.set(name, cgroupPath);
  }
  return own;
}

async function controllers(dir: string): Promise<string[]> {
  const text = await readFile(path.join(dir, 'cgroup.controllers'), 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean);
}

async function prepare(candidate: CgroupParent, controller: CgroupController): Promise<boolean> {
  try {
    if (candidate.version === 2) {
      // A v2 child gets the controller's files only when its parent delegates the controller.
      // The kernel refuses that for a cgroup that holds processes (other than the root), which
      // is the usual case for a service; then there is no v2 cgroup for us and this is false.
      await enable(path.dirname(candidate.dir), controller);
      await mkdir(candidate.dir, { recursive: true });
      await enable(candidate.dir, controller);
    } else {
      await mkdir(candidate.dir, { recursive: true });
    }
    await access(path.join(candidate.dir, 'cgroup.procs'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function enable(dir: string, controller: CgroupController): Promise<void> {
  const file = path.join(dir, 'cgroup.subtree_control');
  const enabled = await readFile(file, 'utf8');
  if (!enabled.split(/\s+/).includes(controller)) await writeFile(file, `+${controller}`);
}

/** Run cgroups named for a server process that is gone: kill what is left in them. */
async function removeStale(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const owner = Number(/^(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (!Number.isInteger(owner) || owner === process.pid || isAlive(owner)) continue;
    await removeCgroup(path.join(dir, name));
  }
}

/**
 * Kills every process in a run cgroup and removes it. Where it has a pids controller, forks
 * are refused first (pids.max 0), so the kill loop is not racing a fork bomb; v2's cgroup.kill
 * does it in one write where the kernel has it (5.14+), and the loop catches the rest.
 */
export async function removeCgroup(dir: string): Promise<void> {
  await writeControl(dir, 'pids.max', '0').catch(() => undefined);
  await writeControl(dir, 'cgroup.kill', '1').catch(() => undefined);

  const deadline = Date.now() + killDeadlineMs;
  for (;;) {
    const pids = await members(dir);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ESRCH: it died between the read and the kill.
      }
    }
    // A killed process leaves the cgroup once it has exited, a moment after the signal.
    if (pids.length === 0) {
      try {
        await rmdir(dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      }
    }
    if (Date.now() > deadline) return;
    await sleep(10);
  }
}

async function members(dir: string): Promise<number[]> {
  const text = await readControl(dir, 'cgroup.procs');
  return text
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid > 0);
}

/** Writes an existing control file; never creates one (v1 has no cgroup.kill). */
export function writeControl(dir: string, name: string, value: string): Promise<void> {
  return writeFile(path.join(dir, name), value, { flag: 'r+' });
}

/** A control file's text, or '' when it cannot be read (the cgroup is gone). */
export function readControl(dir: string, name: string): Promise<string> {
  return readFile(path.join(dir, name), 'utf8').catch(() => '');
}
