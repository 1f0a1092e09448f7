// Starts `tapline serve` as a child process on a free port with its own data directory, the way
// a user would run it, and stops it again. The example and its tests share this.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const cliPath = path.join(repoRoot, 'dist', 'cli', 'main.js');

// Settings from the caller's shell must not point the example's server elsewhere.
const inheritedSettings = [
  'TAPLINE_API_KEY',
  'TAPLINE_CONFIG',
  'TAPLINE_DATABASE_URL',
  'TAPLINE_DATA_DIR',
  'TAPLINE_HOST',
  'TAPLINE_PORT',
  'TAPLINE_URL',
];

/**
 * Resolves to { url, dataDir, logFile, stop } once the server listens. Its log lines (pino
 * JSON) go to <dataDir>/server.log; the one that says "tapline listening" carries the port.
 */
export async function startTapline({ dataDir, startTimeoutMs = 30_000 }) {
  if (!existsSync(cliPath)) {
    throw new Error(`${cliPath} is missing; build first with: npm run build`);
  }
  const env = { ...process.env, TAPLINE_LOG_LEVEL: process.env.TAPLINE_LOG_LEVEL || 'info' };
  for (const name of inheritedSettings) delete env[name];

  const logFile = path.join(dataDir, 'server.log');
  const log = createWriteStream(logFile);
  // cwd is the data dir, so a tapline.yaml lying in the caller's folder is not read either.
  const child = spawn(
    process.execPath,
    [cliPath, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
    { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  // Whatever way this process ends (Ctrl-C mid-start included), the server ends with it.
  const endWithParent = () => child.kill('SIGTERM');
  process.once('exit', endWithParent);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    let settled = false;
    const timer = setTimeout(
      () => fail(`did not start within ${startTimeoutMs} ms`),
      startTimeoutMs,
    );
    function fail(reason) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`tapline serve ${reason}; its log: ${logFile}\n${tail(logFile)}`));
    }
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        const port = listeningPort(line);
        if (port !== undefined && !settled) {
          settled = true;
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${port}`);
        }
      }
    });
    exited.then(({ code, signal }) => fail(`exited early (code ${code}, signal ${signal})`));
  });

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      process.off('exit', endWithParent);
    })();
    return stopping;
  };
  return { url, dataDir, logFile, pid: child.pid, stop };
}

function listeningPort(line) {
  try {
    const event = JSON.parse(line);
    return event.msg === 'tapline listening' ? event.port : undefined;
  } catch {
    return undefined;
  }
}

function tail(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
