/**
 * One tap of N records (ten fields, about 250 bytes each, from a plain generator) into the
 * sqlite destination, against the same tap with no target pipeline. Measures end-to-end rows
 * per second (run start until the rollup is done), the load's cost over the tap alone, and the
 * server's peak memory (VmHWM of its process). Goals (issue 3), on 2 cores: the load adds at
 * most 25% to the tap-alone time; >= 40,000 rows/s end to end; peak memory < 200 MB, the same
 * at 3M as at 1M.
 *
 *   npx tsx bench/load-throughput.ts [records ...]     (default: 1000000 3000000)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  api,
  freePort,
  startServerProcess,
  waitForRollup,
} from '../test/support/server-process.js';

const sizes = process.argv.slice(2).map(Number);
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

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

for (const n of sizes) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-bench-load-'));
  const server = await startServerProcess(dataDir, await freePort(), { TAPLINE_LOG_LEVEL: 'warn' });
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

    let start = performance.now();
    const alone = await api(server.url, 'POST', '/tap/run', {
      name: 'alone',
      mode: 'run',
      params: { n },
    });
    const aloneMs = performance.now() - start;
    if (alone.body.recordCount !== n) throw new Error(JSON.stringify(alone.body).slice(0, 500));

    start = performance.now();
    const loaded = await api(server.url, 'POST', '/tap/run', {
      name: 'loaded',
      mode: 'run',
      params: { n },
    });
    const scriptDoneMs = performance.now() - start;
    const { rollup } = await waitForRollup(server.url, loaded.body.publisherToken, 3_600_000);
    const totalMs = performance.now() - start;
    if (rollup.status !== 'success') throw new Error(JSON.stringify(rollup));

    const rowsPerSecond = n / (totalMs / 1000);
    console.log(`records                         ${n.toLocaleString('en')}`);
    console.log(`tap alone (no target pipeline)  ${(aloneMs / 1000).toFixed(2)} s`);
    console.log(
      `run + load, end to end          ${(totalMs / 1000).toFixed(2)} s  (script part ${(scriptDoneMs / 1000).toFixed(2)} s)`,
    );
    console.log(
      `load adds over tap alone        ${((totalMs / aloneMs - 1) * 100).toFixed(0)} %   (goal: <= 25 %)`,
    );
    console.log(
      `rows per second, end to end     ${Math.round(rowsPerSecond).toLocaleString('en')}   (goal: >= 40,000)`,
    );
    console.log(
      `server peak memory (VmHWM)      ${peakRssMb(server.child.pid!).toFixed(0)} MB   (goal: < 200 MB)`,
    );
    console.log('');
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}
