import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface ServeChild {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string | null>;
}

export interface ServerProcess extends ServeChild {
  url: string;
}

/**
 * `tapline serve <args>` as a real child process, its output collected: from the TypeScript
 * source through tsx, or, with `built`, from dist/ as users run it (run `npm run build` first).
 */
export function spawnServe(
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; built?: boolean },
): ServeChild {
  const entry = options.built
    ? [path.join(root, 'dist/cli/main.js')]
    : ['--import', import.meta.resolve('tsx'), path.join(root, 'src/cli/main.ts')];
  const child = spawn(process.execPath, [...entry, 'serve', ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return { child, output: () => output, exited };
}

/** Polls /healthz on the loopback address until it answers; false if the process ends first. */
export async function healthy(served: ServeChild, port: number, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && served.child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** A server on `port` for `dataDir`, started and answering (see spawnServe). */
export async function startServerProcess(
  dataDir: string,
  port: number,
  env: Record<string, string> = {},
  options: { built?: boolean } = {},
): Promise<ServerProcess> {
  const served = spawnServe(['--port', String(port), '--data-dir', dataDir], {
    cwd: dataDir,
    env: { ...process.env, TAPLINE_LOG_LEVEL: 'info', ...env },
    ...options,
  });
  if (!(await healthy(served, port))) {
    served.child.kill('SIGKILL');
    throw new Error(`server did not start:\n${served.output()}`);
  }
  return { ...served, url: `http://127.0.0.1:${port}` };
}

export async function api(url: string, method: string, route: string, body?: unknown) {
  const response = await fetch(`${url}/api/v1${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export async function rollupOf(url: string, publisherToken: string) {
  const route = `/pipeline/status?publishertoken=${publisherToken}&withrollup=true`;
  return (await api(url, 'GET', route)).body;
}

/** Polls until the run's jobs have all ended, or the deadline passes. */
export async function waitForRollup(url: string, publisherToken: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let status = await rollupOf(url, publisherToken);
  while (!status.rollup.allDone && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    status = await rollupOf(url, publisherToken);
  }
  return status;
}

/** Polls until a loader has begun on the run's job; the job must not have ended by then. */
export async function waitForLoaderStart(url: string, publisherToken: string) {
  for (;;) {
    const status = await rollupOf(url, publisherToken);
    const names = status.events.map((e: { processName: string }) => e.processName);
    if (names.includes('SqliteLoader')) return status;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Saves the pipeline `events` (appending to the warehouse table events) and a tap feeding it. */
export async function saveEventsTap(url: string, script: string): Promise<void> {
  await api(url, 'POST', '/pipelines', {
    name: 'events',
    destinations: [{ type: 'sqlite', table: 'events', writeMode: 'append' }],
  });
  await api(url, 'POST', '/taps', { name: 'events', targetPipeline: 'events', script });
}
