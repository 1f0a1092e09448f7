/**
 * Bounds how many processes one run may have, and finds every one of them at the end.
 * RLIMIT_NPROC cannot do this: it does not bind root, and it counts all of a user's processes
 * rather than one run's. So each run gets its own pids cgroup where one can be made (v2 first,
 * then v1); the harness joins it as its first act, so every descendant is counted and found,
 * including those that called setsid and left the process group. Without a writable cgroup a
 * watcher counts the process group's members instead, which is weaker (see
 * process-group-watch.ts).
 */

import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PidsCgroup, removeCgroup, type CgroupVersion } from './pids-cgroup.js';
import { ProcessGroupWatch } from './process-group-watch.js';

export interface ProcessLimit {
  readonly mechanism: 'cgroup-v2' | 'cgroup-v1' | 'process-group';
  /** The cgroup.procs file the harness writes its pid into first; null without a cgroup. */
  readonly procsPath: string | null;
  /** Starts watching the run whose group leader is `pid`; `onBreach` is called at most once. */
  watch(pid: number, onBreach: () => void): void;
  /** Whether the run went past the limit (a fork refused, or too many processes seen). */
  breached(): Promise<boolean>;
  /** Kills every process of the run and removes its cgroup. Never throws. */
  close(): Promise<void>;
}

interface CgroupParent {
  version: CgroupVersion;
  /** The directory run cgroups are made in: `<own cgroup>/tapline`. */
  dir: string;
}

const cgroupRoot = '/sys/fs/cgroup';
const parentName = 'tapline';

let parent: Promise<CgroupParent | null> | undefined;

export async function openProcessLimit(maxProcesses: number): Promise<ProcessLimit> {
  parent ??= findCgroupParent();
  const found = await parent;
  if (found !== null) {
    // The server's pid says whose it is (see removeStale); the rest only has to be unique,
    // also across worker threads that share the pid.
    const dir = path.join(found.dir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    const cgroup = await PidsCgroup.create(found.version, dir, maxProcesses);
    if (cgroup !== null) return cgroup;
  }
  return new ProcessGroupWatch(maxProcesses);
}

/** Where this server may make pids cgroups, or null for none; also clears dead servers' ones. */
async function findCgroupParent(): Promise<CgroupParent | null> {
  const own = await ownCgroups();
  const candidates: CgroupParent[] = [];
  if (own.v2 !== undefined && (await controllers(cgroupRoot)).includes('pids')) {
    candidates.push({ version: 2, dir: path.join(cgroupRoot, own.v2, parentName) });
  }
  if (own.pidsV1 !== undefined) {
    candidates.push({ version: 1, dir: path.join(cgroupRoot, 'pids', own.pidsV1, parentName) });
  }
  for (const candidate of candidates) {
    if (await prepare(candidate)) {
      await removeStale(candidate.dir);
      return candidate;
    }
  }
  return null;
}

/** This process's cgroup paths: the v2 one, and the v1 one of the pids controller. */
async function ownCgroups(): Promise<{ v2?: string; pidsV1?: string }> {
  const text = await readFile('/proc/self/cgroup', 'utf8').catch(() => '');
  const own: { v2?: string; pidsV1?: string } = {};
  for (const line of text.split('\n')) {
    const [, names, cgroupPath] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (names === undefined || cgroupPath === undefined) continue;
    if (names === '') own.v2 = cgroupPath;
    else if (names.split(',').includes('pids')) own.pidsV1 = cgroupPath;
  }
  return own;
}

async function controllers(dir: string): Promise<string[]> {
  const text = await readFile(path.join(dir, 'cgroup.controllers'), 'utf8').catch(() => '');
  return text.split(/\s+/).filter(Boolean);
}

async function prepare(candidate: CgroupParent): Promise<boolean> {
  try {
    if (candidate.version === 2) {
      // A v2 child gets pids.max only when its parent delegates the controller. The kernel
      // refuses that for a cgroup that holds processes (other than the root), which is the
      // usual case for a service; then there is no v2 cgroup for us and this returns false.
      await enablePids(path.dirname(candidate.dir));
      await mkdir(candidate.dir, { recursive: true });
      await enablePids(candidate.dir);
    } else {
      await mkdir(candidate.dir, { recursive: true });
    }
    await access(path.join(candidate.dir, 'cgroup.procs'), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function enablePids(dir: string): Promise<void> {
  const file = path.join(dir, 'cgroup.subtree_control');
  const enabled = await readFile(file, 'utf8');
  if (!enabled.split(/\s+/).includes('pids')) await writeFile(file, '+pids');
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

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
