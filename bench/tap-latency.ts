/**
 * Test-mode latency of a ten-record tap over HTTP, next to bare Python running the same fetch.
 * Goal (issue 2): tapline adds less than 40 ms to bare Python.
 *
 *   npx tsx bench/tap-latency.ts [rounds]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createContext } from '../src/app/context.js';
import { loadConfig } from '../src/config/config.js';
import { createLogger } from '../src/log/logger.js';
import { buildApp } from '../src/server/app.js';

const rounds = Number(process.argv[2] ?? 30);
const script = `def fetch():
    return [{"id": i, "name": f"row {i}", "ok": i % 2 == 0} for i in range(10)]
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-bench-'));
const config = loadConfig({ env: {}, cwd: dataDir, overrides: { dataDir, port: 0 } });
const context = await createContext(config, createLogger({ level: 'silent', pretty: false }));
const app = await buildApp(context);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

await fetch(`${url}/api/v1/taps`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'ten', script }),
});

const bareFile = path.join(dataDir, 'bare.py');
writeFileSync(bareFile, `${script}\nimport json\nfor r in fetch():\n    json.dumps(r)\n`);

// Bare Python gets the real interpreter, not a version-manager shim that would slow it down.
const python = execFileSync(config.runner.python, ['-c', 'import sys; print(sys.executable)'], {
  encoding: 'utf8',
}).trim();

const tapline: number[] = [];
const bare: number[] = [];
for (let i = 0; i < rounds + 3; i++) {
  let start = performance.now();
  const response = await fetch(`${url}/api/v1/tap/run`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ten', mode: 'test' }),
  });
  const answer = (await response.json()) as { recordCount: number };
  if (answer.recordCount !== 10) throw new Error(`expected 10 records: ${JSON.stringify(answer)}`);
  const taplineMs = performance.now() - start;

  start = performance.now();
  execFileSync(python, [bareFile]);
  const bareMs = performance.now() - start;
  // The first rounds warm the page cache and the JIT; they are not counted.
  if (i >= 3) {
    tapline.push(taplineMs);
    bare.push(bareMs);
  }
}

await app.close();
await context.close(1000);
rmSync(dataDir, { recursive: true, force: true });

const t = median(tapline);
const b = median(bare);
console.log(`rounds                      ${rounds}`);
console.log(`interpreter                 ${python}`);
console.log(`bare python (median)        ${b.toFixed(1)} ms`);
console.log(`tapline test run (median)   ${t.toFixed(1)} ms`);
console.log(`added by tapline            ${(t - b).toFixed(1)} ms   (goal: < 40 ms)`);
