/**
 * Whether a process id names a running process, for telling a dead server's leftovers (run
 * cgroups, working directories) from a live one's. Only ESRCH means gone: EPERM is a process of
 * another user, and anything else (an id out of range) is kept too, since keeping a leftover
 * costs less than removing what a live process uses.
 *
 * A pid the kernel has since given to another process reads as alive, so that leftover waits
 * for a later start; this errs on the safe side. Pids are per pid namespace: a process in
 * another namespace (a container sharing this folder) reads as dead.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
