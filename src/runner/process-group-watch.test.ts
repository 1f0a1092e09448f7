/**
 * The fallback process limit, on real processes. A gentle group of sleeps stands in for a fork
 * bomb: without a cgroup nothing stops a bomb from filling the machine's pid table between two
 * counts, and this machine is shared with other tests.
 */

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import { ProcessGroupWatch } from './process-group-watch.js';

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

function groupOfSleeps(count: number): number {
  const child = spawn('sh', ['-c', `for i in $(seq ${count}); do sleep 60 & done; wait`], {
    detached: true,
    stdio: 'ignore',
  });
  started.push(child.pid!);
  return child.pid!;
}

/** Whether any live (not zombie) process is in the group; kill(-pgid, 0) counts zombies. */
function groupAlive(pgid: number): boolean {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .some((pid) => {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return fields[0] !== 'Z' && Number(fields[2]) === pgid;
      } catch {
        return false;
      }
    });
}

it('kills a process group that grows past the limit, and says so', async () => {
  const watch = new ProcessGroupWatch(10);
  const pgid = groupOfSleeps(30);
  let breaches = 0;
  watch.watch(pgid, () => (breaches += 1));

  const deadline = Date.now() + 3000;
  while (breaches === 0 && Date.now() < deadline) await sleep(20);
  await watch.close();

  expect(breaches).toBe(1);
  expect(await watch.breached()).toBe(true);
  expect(groupAlive(pgid)).toBe(false);
});

it('leaves a group within the limit alone until the run ends, then kills it', async () => {
  const watch = new ProcessGroupWatch(10);
  const pgid = groupOfSleeps(3);
  let breaches = 0;
  watch.watch(pgid, () => (breaches += 1));

  await sleep(300);
  expect(groupAlive(pgid)).toBe(true);
  await watch.close();

  expect(breaches).toBe(0);
  expect(await watch.breached()).toBe(false);
  expect(groupAlive(pgid)).toBe(false);
});
