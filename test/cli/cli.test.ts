import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CliServer,
  cliSession,
  closedPort,
  runCli,
  runCliUnread,
  startCliServer,
} from './cli-process.js';

const session = cliSession('tapline-cli-files-');
const { tapline, file } = session;

const numbersScript = `def fetch():
    print("fetching three numbers")
    return [
        {"id": 1, "name": "one", "big": 2033735037361704962},
        {"id": 2, "name": "two", "big": 7},
        {"id": 3, "name": "three", "big": None},
    ]
`;

const paramsScript = `import os

def fetch():
    return [{key: os.environ.get("TAP_PARAM_" + key) for key in ("since", "n", "opts", "flag")}]
`;

const brokenScript = `def fetch():
    return [1 / 0]
`;

const wideScript = `def fetch():
    return [{"id": i, "text": "x" * 200, "more": "y" * 80, "last": "z"} for i in range(3)]
`;

beforeAll(async () => {
  const pipeline = file(
    'numbers.yaml',
    `name: numbers
primaryKey: [id]
destinations:
  - type: sqlite
    table: numbers
    writeMode: merge
`,
  );
  expect((await tapline('pipeline', 'add', pipeline)).code).toBe(0);
  const added = await tapline(
    'tap',
    'add',
    'numbers',
    '--script',
    file('numbers.py', numbersScript),
    '--pipeline',
    'numbers',
    '--description',
    'three numbers',
  );
  expect(added).toMatchObject({
    code: 0,
    stdout: "saved tap 'numbers' (version 1)\ntry it: tapline tap test numbers\n",
  });
  expect(
    (await tapline('tap', 'add', 'params', '--script', file('params.py', paramsScript))).code,
  ).toBe(0);
  expect(
    (await tapline('tap', 'add', 'broken', '--script', file('broken.py', brokenScript))).code,
  ).toBe(0);
});

describe('human output', () => {
  it('lists taps as a table', async () => {
    const result = await tapline('tap', 'list');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^NAME +PIPELINE +SCHEDULE +VERSION +LAST TEST +LAST RUN +DESCRIPTION$/,
    );
    expect(lines.find((line) => line.startsWith('numbers '))).toMatch(
      /^numbers +numbers +- +1 +- +- +three numbers$/,
    );
    expect(lines).toHaveLength(4);
  });

  it('prints a test run as a table of records, then counts, columns and logs', async () => {
    const result = await tapline('tap', 'test', 'numbers');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'id  name                   big',
      ' 1  one    2033735037361704962',
      ' 2  two                      7',
      ' 3  three',
    ]);
    expect(result.stdout).toMatch(/^success: 3 records, json, \d+ ms, run [0-9a-f-]{36}$/m);
    expect(result.stdout).toContain('columns (3): id, name, big\n');
    expect(result.stdout).toContain('logs:\n  fetching three numbers\n');
  });

  it('fits a wide table into the terminal width', async () => {
    await tapline('tap', 'add', 'wide', '--script', file('wide.py', wideScript));
    const result = await runCli(['tap', 'test', 'wide'], {
      TAPLINE_URL: session.server.url,
      COLUMNS: '60',
    });
    expect(result.code).toBe(0);
    const table = result.stdout.split('\n\n')[0]!.split('\n');
    expect(table).toHaveLength(4);
    for (const line of table) expect(line.length).toBeLessThanOrEqual(60);
    expect(table[0]).toMatch(/^id +text +more +last$/);
    expect(table[1]).toMatch(/^ 0 +x+… +y+… +z$/);
  });

  it('passes --param values as strings, and key:=<json> as JSON', async () => {
    const result = await tapline(
      'tap',
      'test',
      'params',
      '--json',
      '--param',
      'since=2015-01-01',
      '--param',
      'n:=5',
      '--param',
      'opts:={"a": [1, 2]}',
      '--param',
      'flag=a=b',
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).records).toEqual([
      { since: '2015-01-01', n: '5', opts: '{"a":[1,2]}', flag: 'a=b' },
    ]);
  });
});

describe('--json', () => {
  it('prints the API answer as JSON, large integers exact', async () => {
    const result = await tapline('tap', 'test', 'numbers', '--json');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"big": 2033735037361704962');
    const answer = JSON.parse(result.stdout);
    expect(answer).toMatchObject({
      tap: 'numbers',
      status: 'success',
      mode: 'test',
      persisted: false,
      persistedReason: 'test_mode',
      recordCount: 3,
      dataType: 'json',
      columns: ['id', 'name', 'big'],
    });
    expect(answer.records.map((r: { name: string }) => r.name)).toEqual(['one', 'two', 'three']);
  });

  it('works before the command too, and on lists', async () => {
    const result = await tapline('--json', 'pipeline', 'list');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject([{ name: 'numbers', primaryKey: ['id'] }]);
  });

  it('prints errors in the API error shape', async () => {
    const result = await tapline('tap', 'show', 'numbrs', '--json');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      error: { code: 'tap_not_found', similar: ['numbers'] },
    });
  });
});

describe('run and load', () => {
  it('runs with --wait until the load is done, then reports the rows', async () => {
    const result = await tapline('tap', 'run', 'numbers', '--wait');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^success: 3 records in \d+ ms, run [0-9a-f-]{36}$/m);
    expect(result.stdout).toMatch(/^fed into pipeline numbers; publisherToken [0-9a-f-]{36}$/m);
    expect(result.stdout).toContain(
      'load success: 1 job, 3 records loaded through pipeline numbers',
    );
    // Progress lines go to stderr, so stdout stays the result; they name the job's whole token.
    expect(result.stderr).toMatch(/numbers +[0-9a-f-]{36} +success +3 records/);
  });

  it('shows the status of a token, and --json with the rollup', async () => {
    const run = JSON.parse((await tapline('tap', 'run', 'numbers', '--wait', '--json')).stdout);
    expect(run.rollup).toMatchObject({ allDone: true, status: 'success', jobCount: 1 });

    const byPublisher = await tapline('status', run.publisherToken);
    expect(byPublisher.code).toBe(0);
    expect(byPublisher.stdout).toContain('load success: 1 job, 3 records loaded');
    const byPipeline = await tapline('status', run.pipelineTokens[0], '--json');
    expect(JSON.parse(byPipeline.stdout).rollup.jobs[0].pipelineToken).toBe(run.pipelineTokens[0]);

    const unknown = await tapline('status', 'no-such-token');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no load job carries the token 'no-such-token'");
  });

  it('lists runs newest first, with the whole publisher token that status takes', async () => {
    const run = JSON.parse((await tapline('tap', 'run', 'numbers', '--json')).stdout);
    const result = await tapline('tap', 'runs', 'numbers', '--limit', '2');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^STARTED +MODE +TRIGGER +STATUS +RECORDS +DURATION +PUBLISHER TOKEN +RUN$/,
    );
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(
      new RegExp(`^[0-9-]{10} [0-9:]{8}  run +cli +success +3 +\\d+ ms +${run.publisherToken}  `),
    );

    const tested = await tapline('tap', 'test', 'numbers');
    expect(tested.code).toBe(0);
    const afterTest = await tapline('tap', 'runs', 'numbers', '--limit', '1');
    expect(afterTest.stdout.split('\n')[1]).toMatch(
      / test +cli +success +3 +\d+ ms +- \(test_mode\) /,
    );
  });
});

describe('exit codes and messages', () => {
  it('exits 1 when the script fails, showing the error', async () => {
    const result = await tapline('tap', 'test', 'broken');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^failure: 0 records/m);
    expect(result.stdout).toContain('ZeroDivisionError: division by zero');
  });

  it('exits 1 for an unknown tap and names the near ones', async () => {
    const result = await tapline('tap', 'test', 'numbrs');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("tapline: tap 'numbrs' does not exist\ndid you mean: numbers?\n");
  });

  it('says how to start the server when nothing listens', async () => {
    const port = await closedPort();
    const result = await runCli(['tap', 'list'], { TAPLINE_URL: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `tapline: cannot reach tapline at http://127.0.0.1:${port} (ECONNREFUSED); ` +
        'start it with `tapline serve`\n',
    );
  });

  it('exits 2 on bad --param syntax, before calling the server', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    const noEquals = await runCli(['tap', 'test', 'numbers', '--param', 'since'], {
      TAPLINE_URL: url,
    });
    expect(noEquals.code).toBe(2);
    expect(noEquals.stderr).toContain("bad --param 'since': write key=value");
    const badKey = await runCli(['tap', 'test', 'numbers', '--param', '1st=x'], {
      TAPLINE_URL: url,
    });
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain("the key '1st' must be an identifier");
    const badJson = await runCli(['tap', 'run', 'numbers', '--param', 'n:=nope'], {
      TAPLINE_URL: url,
    });
    expect(badJson.code).toBe(2);
  });

  it('exits 2 on a --set state that is not a JSON object, before calling the server', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const example = `e.g. --set '{"cursor": "2015-01-01"}'`;
    const cases: [string, string][] = [
      ['nope', `--set needs a JSON object, ${example}`],
      ['[1]', `--set needs a JSON object, not an array, ${example}`],
      ['"2015-01-01"', `--set needs a JSON object, not a string, ${example}`],
      ['5', `--set needs a JSON object, not a number, ${example}`],
      ['null', `--set needs a JSON object, not null, ${example}; --reset forgets the state`],
    ];
    for (const [value, message] of cases) {
      expect(
        await runCli(['tap', 'state', 'params', '--set', value], { TAPLINE_URL: url }),
      ).toEqual({ code: 2, stdout: '', stderr: `tapline: ${message}\n` });
    }

    const set = await tapline('tap', 'state', 'params', '--set', '{"cursor": "2015-01-01"}');
    expect(set).toEqual({ code: 0, stdout: "set the state of tap 'params'\n", stderr: '' });
    const shown = JSON.parse((await tapline('tap', 'state', 'params', '--json')).stdout);
    expect(shown.state).toEqual({ cursor: '2015-01-01' });
    expect((await tapline('tap', 'state', 'params', '--reset')).code).toBe(0);
  });

  it('exits 2 on other usage mistakes, pointing to the help of the mistyped command', async () => {
    expect(await tapline('tap', 'test')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "error: missing required argument 'name'\n" +
        '(tapline tap test --help describes its arguments and options)\n',
    });
    expect((await tapline('tap', 'test', 'numbers', '--limit', 'many')).code).toBe(2);
    expect(await tapline('tap', 'frob')).toEqual({
      code: 2,
      stdout: '',
      stderr: "error: unknown command 'frob'\n(tapline tap --help lists its commands)\n",
    });
    expect((await tapline('frob')).stderr).toBe(
      "error: unknown command 'frob'\n(tapline --help lists its commands)\n",
    );
    expect((await tapline('--help')).code).toBe(0);
  });

  it('prints usage mistakes in the JSON error shape with --json, exiting 2', async () => {
    const missing = await tapline('tap', 'show', '--json');
    expect(missing).toMatchObject({ code: 2, stderr: '' });
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: 'usage', message: "missing required argument 'name'" },
    });
    const badLimit = await tapline('--json', 'tap', 'test', 'numbers', '--limit', 'many');
    expect(badLimit).toMatchObject({ code: 2, stderr: '' });
    expect(JSON.parse(badLimit.stdout)).toEqual({
      error: { code: 'usage', message: "--limit must be a whole number of 0 or more, not 'many'" },
    });
    // Help is not a mistake: it prints as usual and exits 0.
    expect((await tapline('tap', '--help', '--json')).code).toBe(0);
  });

  it('exits 2 when --url or TAPLINE_URL is not an http address', async () => {
    expect(await tapline('--url', 'notaurl', 'tap', 'list')).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'tapline: --url (or TAPLINE_URL) must be an http:// or https:// address such as ' +
        "http://127.0.0.1:8080, not 'notaurl'\n",
    });
    const fromEnv = await runCli(['tap', 'list'], { TAPLINE_URL: 'ftp://example.com' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain("not 'ftp://example.com'");
  });

  it('exits 1 on a refused save, naming the flag that replaces', async () => {
    const file = path.join(session.files, 'numbers.yaml');
    expect(await tapline('pipeline', 'add', file)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "tapline: pipeline 'numbers' already exists; replace it or pick another name\n" +
        `replace it with: tapline pipeline add ${file} --replace\n`,
    });
    expect((await tapline('pipeline', 'add', file, '--replace')).code).toBe(0);

    const script = path.join(session.files, 'numbers.py');
    expect(await tapline('tap', 'add', 'numbers', '--script', script)).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "tapline: tap 'numbers' already exists; replace it or pick another name\n" +
        `change it with: tapline tap update numbers --script ${script}\n`,
    });
  });

  it('removes a tap', async () => {
    expect((await tapline('tap', 'rm', 'wide')).code).toBe(0);
    expect((await tapline('tap', 'show', 'wide')).code).toBe(1);
  });
});

describe('output into a closed pipe, as `| head` leaves it', () => {
  it('drops the rest quietly and keeps the exit code', async () => {
    const env = { TAPLINE_URL: session.server.url };
    expect(await runCliUnread(['tap', 'show', 'numbers'], env)).toEqual({ code: 0, stderr: '' });
    expect(await runCliUnread(['tap', 'runs', 'numbers'], env)).toEqual({ code: 0, stderr: '' });
    expect(await runCliUnread(['tap', 'test', 'numbers', '--limit', '0'], env)).toEqual({
      code: 0,
      stderr: '',
    });
    expect(await runCliUnread(['tap', 'test', 'broken'], env)).toEqual({ code: 1, stderr: '' });
  });
});

describe('API keys', () => {
  let keyed: CliServer;
  beforeAll(async () => {
    keyed = await startCliServer({ env: { TAPLINE_API_KEY: 'test-key-1' } });
  });
  afterAll(async () => {
    await keyed?.stop();
  });

  it('sends --api-key or TAPLINE_API_KEY as x-api-key, and says what to do without one', async () => {
    const without = await runCli(['tap', 'list'], { TAPLINE_URL: keyed.url });
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('pass --api-key or set TAPLINE_API_KEY\n');

    const flag = await runCli(['tap', 'list', '--api-key', 'test-key-1'], {
      TAPLINE_URL: keyed.url,
    });
    expect(flag).toMatchObject({
      code: 0,
      stdout: 'no taps yet; save one with: tapline tap add NAME --script FILE\n',
    });
    const env = await runCli(['tap', 'list', '--json'], {
      TAPLINE_URL: keyed.url,
      TAPLINE_API_KEY: 'test-key-1',
    });
    expect(env).toMatchObject({ code: 0 });
    expect(JSON.parse(env.stdout)).toEqual([]);
  });
});
