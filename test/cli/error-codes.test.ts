import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliErrorCode } from '../../src/cli/cli-errors.js';
import { type CliServer, closedPort, runCli, startCliServer } from './cli-process.js';

let server: CliServer;
let impostor: Server;
let impostorUrl: string;
let scratch: string;

/**
 * Something at the server's URL that is not quite tapline, for the answers tapline never gives:
 * a page instead of JSON, an error without a code, a load that never ends, a body of another
 * shape.
 */
function startImpostor(): Promise<Server> {
  const processing = {
    rollup: { status: 'processing', allDone: false, jobCount: 1, jobs: [] },
    events: [],
  };
  return new Promise((resolve) => {
    const http = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://impostor');
      const send = (status: number, body: string) => res.writeHead(status).end(body);
      if (url.pathname === '/api/v1/taps') return send(200, 'hello from a web server');
      if (url.pathname === '/api/v1/pipelines') return send(502, '<html>Bad Gateway</html>\n');
      if (url.pathname === '/api/v1/secrets') return send(500, '{"error": {"message": "boom"}}');
      if (url.pathname === '/api/v1/tap/run') {
        return send(200, JSON.stringify({ status: 'success', publisherToken: 'pub-slow' }));
      }
      if (url.searchParams.get('publishertoken') === 'pub-slow') {
        return send(200, JSON.stringify(processing));
      }
      send(200, '{}');
    });
    http.listen(0, '127.0.0.1', () => resolve(http));
  });
}

beforeAll(async () => {
  server = await startCliServer();
  impostor = await startImpostor();
  const address = impostor.address();
  impostorUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  scratch = mkdtempSync(path.join(tmpdir(), 'tapline-cli-codes-'));
});

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => impostor?.close(resolve));
  rmSync(scratch, { recursive: true, force: true });
});

/** What `--json` shows for a failure: nothing on stderr, the error object on stdout. */
async function jsonError(args: string[], env: Record<string, string> = {}, cwd?: string) {
  const result = await runCli([...args, '--json'], env, '', cwd);
  expect(result.stderr).toBe('');
  return { exitCode: result.code, ...(JSON.parse(result.stdout) as { error: unknown }) };
}

/**
 * One case per code the CLI makes itself, each bringing it about as a user would and writing
 * out what they see. Keyed by the catalogue's codes, so a new code does not typecheck until
 * it has a case here.
 */
const cases: Record<CliErrorCode, () => Promise<void>> = {
  async usage() {
    expect(await jsonError(['tap', 'show'], { TAPLINE_URL: server.url })).toEqual({
      exitCode: 2,
      error: { code: 'usage', message: "missing required argument 'name'" },
    });
    expect(await jsonError(['tap', 'run', 'x', '--timeout', '5'])).toEqual({
      exitCode: 2,
      error: { code: 'usage', message: '--timeout needs --wait' },
    });
  },

  async unreachable() {
    const url = `http://127.0.0.1:${await closedPort()}`;
    expect(await jsonError(['tap', 'list'], { TAPLINE_URL: url })).toEqual({
      exitCode: 1,
      error: {
        code: 'unreachable',
        message: `cannot reach tapline at ${url} (ECONNREFUSED); start it with \`tapline serve\``,
        url,
      },
    });
  },

  async bad_answer() {
    expect(await jsonError(['tap', 'list'], { TAPLINE_URL: impostorUrl })).toEqual({
      exitCode: 1,
      error: { code: 'bad_answer', message: 'the server answered 200 with non-JSON' },
    });
  },

  async http_error() {
    expect(await jsonError(['pipeline', 'list'], { TAPLINE_URL: impostorUrl })).toEqual({
      exitCode: 1,
      error: { code: 'http_error', message: 'the server answered 502: <html>Bad Gateway</html>' },
    });
    // An error body without tapline's code is not taken for one of the API's errors.
    expect(await jsonError(['secret', 'list'], { TAPLINE_URL: impostorUrl })).toEqual({
      exitCode: 1,
      error: { code: 'http_error', message: 'the server answered 500: boom' },
    });
  },

  async unknown_token() {
    expect(await jsonError(['status', 'no-such-token'], { TAPLINE_URL: server.url })).toEqual({
      exitCode: 1,
      error: {
        code: 'unknown_token',
        message:
          "no load job carries the token 'no-such-token'; pass a publisherToken or " +
          'pipelineToken from a run-mode answer (tapline tap runs NAME lists them)',
      },
    });
  },

  async wait_timeout() {
    const args = ['tap', 'run', 'slow', '--wait', '--timeout', '0'];
    expect(await jsonError(args, { TAPLINE_URL: impostorUrl })).toEqual({
      exitCode: 1,
      error: {
        code: 'wait_timeout',
        message:
          'the load is still processing after 0.0 s; check again with: ' +
          'tapline status pub-slow --wait',
      },
    });
  },

  async file_unreadable() {
    const file = path.join(scratch, 'missing.yaml');
    expect(await jsonError(['pipeline', 'add', file], { TAPLINE_URL: server.url })).toEqual({
      exitCode: 1,
      error: {
        code: 'file_unreadable',
        message: `cannot read the pipeline file '${file}' (ENOENT)`,
      },
    });
  },

  async file_invalid() {
    const file = path.join(scratch, 'list.yaml');
    writeFileSync(file, '- one\n- two\n');
    expect(await jsonError(['pipeline', 'add', file], { TAPLINE_URL: server.url })).toEqual({
      exitCode: 1,
      error: { code: 'file_invalid', message: `'${file}' must hold one pipeline object` },
    });
  },

  async script_unreadable() {
    const file = path.join(scratch, 'missing.py');
    const args = ['tap', 'add', 'x', '--script', file];
    expect(await jsonError(args, { TAPLINE_URL: server.url })).toEqual({
      exitCode: 1,
      error: {
        code: 'script_unreadable',
        message: `cannot read the script file '${file}' (ENOENT)`,
      },
    });
  },

  async no_data_dir() {
    const dir = path.join(scratch, 'no-such-dir');
    expect(await jsonError(['key', 'list', '--data-dir', dir])).toEqual({
      exitCode: 1,
      error: {
        code: 'no_data_dir',
        message:
          `the data directory ${dir} does not exist; point the command at the server's data ` +
          'directory with --data-dir or TAPLINE_DATA_DIR',
      },
    });
  },

  async key_exists() {
    const dataDir = path.join(scratch, 'keys');
    const args = ['key', 'create', 'ci bot', '--role', 'admin', '--data-dir', dataDir];
    expect((await runCli(args)).code).toBe(0);
    expect(await jsonError(args)).toEqual({
      exitCode: 1,
      error: {
        code: 'key_exists',
        message:
          "an API key named 'ci bot' already exists; pick another name, or revoke it first " +
          "(tapline key revoke 'ci bot') to replace it",
      },
    });
  },

  async config() {
    const file = path.join(scratch, 'no-such-config.yaml');
    expect(await jsonError(['serve'], { TAPLINE_CONFIG: file }, scratch)).toEqual({
      exitCode: 1,
      error: { code: 'config', message: `TAPLINE_CONFIG names ${file}, which does not exist` },
    });
  },

  async startup_refused() {
    const args = ['serve', '--host', '0.0.0.0', '--port', '0'];
    const dataDir = path.join(scratch, 'never-made');
    expect(await jsonError([...args, '--data-dir', dataDir])).toEqual({
      exitCode: 1,
      error: {
        code: 'startup_refused',
        message:
          'refusing to listen on 0.0.0.0 without an API key: anyone who reaches it could run ' +
          "code. Create a key with 'tapline key create NAME --role admin', set " +
          'TAPLINE_API_KEY, or start with --allow-no-auth',
      },
    });
  },

  async unexpected() {
    // A body of another shape (another version of the server, say) is not anticipated.
    expect(await jsonError(['status', 'some-token'], { TAPLINE_URL: impostorUrl })).toEqual({
      exitCode: 1,
      error: {
        code: 'unexpected',
        message: "unexpected error: Cannot read properties of undefined (reading 'jobCount')",
      },
    });
  },
};

describe('the codes the CLI makes itself, as --json shows them', () => {
  for (const [code, produce] of Object.entries(cases)) it(code, produce);
});

it('never prints a password given in the URL', async () => {
  const port = await closedPort();
  const answer = await jsonError(['tap', 'list'], {
    TAPLINE_URL: `http://admin:hunter2pass@127.0.0.1:${port}`,
  });
  expect(answer.error).toEqual({
    code: 'unreachable',
    message:
      `cannot reach tapline at http://admin:***@127.0.0.1:${port} (ECONNREFUSED); ` +
      'start it with `tapline serve`',
    url: `http://admin:***@127.0.0.1:${port}`,
  });
});
