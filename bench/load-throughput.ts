/**
 * One tap of N records (ten fields, about 250 bytes each, from a plain generator) into the
 * sqlite destination, against the same tap with no target pipeline. Measures end-to-end rows
 * per second (run start until the rollup is done), the load's cost over the tap alone, and the
 * server's peak memory (VmHWM of its process). Goals (issue 3), on 2 cores: the load adds at
 * most 25% to the tap-alone time; >= 40,000 rows/s end to end; peak memory < 200 MB, the same
 * at 3M as at 1M.
 *
 * Each size gets a fresh server (the built one, as users run it: `npm run build` first) and
 * `rounds` alternating runs of each kind; times are medians.
 *
 *   npx tsx bench/load-throughput.ts [records ...] [--rounds N] [--no-early-load]
 *   (default: 1000000 3000000, 3 rounds)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  api,
  freePort,
  startServerProcess,
  waitForRollup,
} from '../test/support/server-process.js';

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt === -1 ? 3 : Number(args[roundsAt + 1]);
const earlyLoad = !args.includes('--no-early-load');
const sizes = args.filter((arg, index) => /^\d+$/.test(arg) && index !== roundsAt + 1).map(Number);
if (sizes.length === 0) sizes.push(1_000_000, 3_000_000);

const script = `import os
def fetch():
    n = int(os.environ["TAP_PARAM_n"])
    for i in range(n):
        yield {"id": i, "ts": "2026-05-01T12:00:00Z", "user": f"user-{i % 10007}",
               "page": f"/catalog/items/{i % 977}/details", "ms": i * 7 % 1000,
               "country": "NZ", "agent": "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101",
               "amount": (i % 10000) / 100, "ok": i % 3 == 0, "note": "ordinary row"}
`;

function memoryMb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return kb / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

for (const n of sizes) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-bench-load-'));
  if (!earlyLoad)
    writeFileSync(path.join(dataDir, 'tapline.yaml'), 'jobs:\n  earlyLoadAfterBytes: null\n');
  const server = await startServerProcess(
    dataDir,
    await freePort(),
    { TAPLINE_LOG_LEVEL: 'warn' },
    { built: true },
  );
  const pid = server.child.pid!;
  try {
    await api(server.url, 'POST', '/pipelines', {
      name: 'bench',
      destinations: [{ type: 'sqlite', table: 'bench', writeMode: 'append' }],
    });
    await api(server.url, 'POST', '/taps', { name: 'alone', script, timeoutSeconds: 3600 });
    await api(server.url, 'POST', '/taps', {
      name: 'loaded',
      script,
      targetPipeline: 'bench',
      timeoutSeconds: 3600,
    });
    const idleMb = memoryMb(pid, 'VmRSS');

    const alone: number[] = [];
    const loaded: number[] = [];
    const scriptPart: number[] = [];
    for (let round = 0; round < rounds; round++) {
      let start = performance.now();
      const aloneRun = await api(server.url, 'POST', '/tap/run', {
        name: 'alone',
        mode: 'run',
        params: { n },
      });
      alone.push(performance.now() - start);
      if (aloneRun.body.recordCount !== n) throw new Error(JSON.stringify(aloneRun.body));

      start = performance.now();
      const loadedRun = await api(server.url, 'POST', '/tap/run', {
        name: 'loaded',
        mode: 'run',
        params: { n },
      });
      scriptPart.push(performance.now() - start);
      const { rollup } = await waitForRollup(server.url, loadedRun.body.publisherToken, 3_600_000);
      loaded.push(performance.now() - start);
      if (rollup.status !== 'success') throw new Error(JSON.stringify(rollup));
    }

    const aloneMs = median(alone);
    const loadedMs = median(loaded);
    console.log(`records                         ${n.toLocaleString('en')}  (${rounds} rounds)`);
    console.log(`early load                      ${earlyLoad ? 'on' : 'off'}`);
    console.log(
      `tap alone (no target pipeline)  ${seconds(aloneMs)}  (runs: ${alone.map(seconds).join(', ')})`,
    );
    console.log(
      `run + load, end to end          ${seconds(loadedMs)}  (runs: ${loaded.map(seconds).join(', ')}; ` +
        `script part ${seconds(median(scriptPart))})`,
    );
    console.log(
      `load adds over tap alone        ${((loadedMs / aloneMs - 1) * 100).toFixed(0)} %   (goal: <= 25 %)`,
    );
    console.log(
      `rows per second, end to end     ${Math.round(n / (loadedMs / 1000)).toLocaleString('en')}   (goal: >= 40,000)`,
    );
    console.log(
      `server memory                   idle ${idleMb.toFixed(0)} MB, peak (VmHWM) ` +
        `${memoryMb(pid, 'VmHWM').toFixed(0)} MB   (goal: peak < 200 MB)`,
    );
    console.log('');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
