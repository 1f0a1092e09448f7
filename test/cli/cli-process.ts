import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
/** The built CLI, as `npm i -g` would install it: `npm run build` comes before `npm test`. */
export const cliPath = path.join(root, 'dist/cli/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A clean environment: no TAPLINE_* from the developer's shell, no colours, a known width. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', COLUMNS: '120' };
  for (const name of Object.keys(env)) if (name.startsWith('TAPLINE_')) delete env[name];
  return { ...env, ...extra };
}

/**
 * Runs `tapline ARGS` as a child process and collects what it printed and its exit code; in
 * `cwd` when given, else in the test's own working directory.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  stdin = '',
  cwd?: string,
): Promise<CliResult> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing; run npm run build first`);
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [cliPath, ...args],
      { env: cliEnv(env), timeout: 60_000, ...(cwd ? { cwd } : {}) },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}

/**
 * Runs `tapline ARGS` with its standard output closed from the start, as `| head` closes it
 * once it has read enough: every write the CLI makes then meets EPIPE.
 */
export function runCliUnread(
  args: string[],
  env: Record<string, string> = {},
): Promise<Omit<CliResult, 'stdout'>> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing; run npm run build first`);
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: cliEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => {
    child.once('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/**
 * Runs `tapline ARGS` on a pseudo-terminal (util-linux `script`), as a person at a terminal
 * would; stdout and stderr arrive together, as the terminal shows them.
 */
export function runCliOnTerminal(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing; run npm run build first`);
  const command = [process.execPath, cliPath, ...args].map(shellQuote).join(' ');
  const terminalEnv = cliEnv(env);
  if (!('NO_COLOR' in env)) delete terminalEnv.NO_COLOR;
  return new Promise((resolve) => {
    execFile(
      'script',
      ['--quiet', '--return', '--command', command, '/dev/null'],
      { env: terminalEnv, timeout: 60_000 },
      (error, stdout) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, output: stdout });
      },
    );
  });
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

export interface CliServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * `tapline serve` on a free port (port 0; the "tapline listening" log line names it), on a
 * fresh data directory that stop() removes, or on the one given, which it keeps.
 */
export async function startCliServer(
  options: { dataDir?: string; env?: Record<string, string> } = {},
): Promise<CliServer> {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing; run npm run build first`);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'tapline-cli-test-'));
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: dataDir,
    env: cliEnv({ TAPLINE_LOG_LEVEL: 'info', ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 20_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /"port":(\d+)[^\n]*"msg":"tapline listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${match[1]}`);
      }
    });
    void exited.then(() => reject(new Error(`server exited: ${output}`)));
  });

  return {
    url,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      await exited;
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A port nothing listens on: bound, read, released. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export interface CliSession {
  /** The server, once the session's beforeAll has run. */
  readonly server: CliServer;
  /** The session's scratch folder, once its beforeAll has run. */
  readonly files: string;
  /** The CLI, pointed at the session's server. */
  tapline(...args: string[]): ReturnType<typeof runCli>;
  /** Writes `text` to `name` in the scratch folder and returns its path. */
  file(name: string, text: string): string;
}

/**
 * A server and a scratch folder shared by one test file's tests: started in a beforeAll, both
 * removed in an afterAll. Call it at the top of the file, before the file's own hooks.
 */
export function cliSession(folderPrefix: string): CliSession {
  let server: CliServer | undefined;
  let files: string | undefined;
  beforeAll(async () => {
    server = await startCliServer();
    files = mkdtempSync(path.join(tmpdir(), folderPrefix));
  });
  afterAll(async () => {
    await server?.stop();
    if (files !== undefined) rmSync(files, { recursive: true, force: true });
  });
  return {
    get server() {
      return server!;
    },
    get files() {
      return files!;
    },
    tapline: (...args) => runCli(args, { TAPLINE_URL: server!.url }),
    file(name, text) {
      const full = path.join(files!, name);
      writeFileSync(full, text);
      return full;
    },
  };
}
