import { beforeAll, expect, it } from 'vitest';
import { cliSession, runCliOnTerminal } from './cli-process.js';

// What the CLI says about a load: its tokens, what landed, and what was rejected or failed.

const session = cliSession('tapline-cli-loads-');
const { tapline, file } = session;

async function addPipeline(name: string, yaml: string): Promise<void> {
  expect((await tapline('pipeline', 'add', file(`${name}.yaml`, yaml))).code).toBe(0);
}

async function addTap(name: string, script: string, pipeline: string): Promise<void> {
  const saved = await tapline(
    'tap',
    'add',
    name,
    '--script',
    file(`${name}.py`, script),
    '--pipeline',
    pipeline,
  );
  expect(saved.code).toBe(0);
}

beforeAll(async () => {
  await addPipeline('single', 'name: single\ndestinations:\n  - type: sqlite\n    table: single\n');
  await addTap('single', 'def fetch():\n    return [{"id": 1}]\n', 'single');

  await addPipeline(
    'typed',
    `name: typed
schema:
  - {name: id, type: integer}
  - {name: big, type: integer}
destinations:
  - {type: sqlite, table: typed}
`,
  );
  await addTap(
    'typed',
    'def fetch():\n    return [{"id": 1, "big": 5}, {"id": 2, "big": "nope"}]\n',
    'typed',
  );

  await addPipeline(
    'strict',
    `name: strict
quality:
  - {field: big, check: required, onFailure: fail}
destinations:
  - {type: sqlite, table: strict}
`,
  );
  await addTap('strict', 'def fetch():\n    return [{"id": 1, "big": 5}, {"id": 2}]\n', 'strict');
});

it('counts one record and one job in the singular', async () => {
  const tested = await tapline('tap', 'test', 'single');
  expect(tested.stdout).toMatch(/^success: 1 record, json, \d+ ms, run [0-9a-f-]{36}$/m);

  const run = await tapline('tap', 'run', 'single', '--wait');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^success: 1 record in \d+ ms, run [0-9a-f-]{36}$/m);
  expect(run.stdout).toContain('load success: 1 job, 1 record loaded through pipeline single\n');
  expect(run.stderr).toMatch(/single +[0-9a-f-]{36} +success +1 record +/);
});

it('prints whole job tokens that status takes, and follows a load with status --wait', async () => {
  const run = await tapline('tap', 'run', 'single');
  expect(run.code).toBe(0);
  const publisherToken = /publisherToken ([0-9a-f-]{36})$/m.exec(run.stdout)![1]!;
  expect(run.stdout).toContain(`follow the load: tapline status ${publisherToken} --wait\n`);

  const waited = await tapline('status', publisherToken, '--wait');
  expect(waited.code).toBe(0);
  expect(waited.stdout).toContain('load success: 1 job, 1 record loaded through pipeline single\n');
  const pipelineToken = /single +([0-9a-f-]{36}) +success/.exec(waited.stderr)![1]!;

  const byJob = await tapline('status', pipelineToken);
  expect(byJob.code).toBe(0);
  expect(byJob.stdout).toMatch(new RegExp(`^  single  ${pipelineToken}  success  1 record  `));
});

it('says which records were rejected and why, after run --wait and in status', async () => {
  const run = await tapline('tap', 'run', 'typed', '--wait');
  expect(run.code).toBe(0);
  const summary =
    'load warning: 1 job, 1 record loaded through pipeline typed\n' +
    '  DataQuality warning: rejected 1 of 2 records: record 2: field \'big\': "nope" is not ' +
    'an integer\n';
  expect(run.stdout).toContain(summary);

  const publisherToken = /publisherToken ([0-9a-f-]{36})$/m.exec(run.stdout)![1]!;
  const status = await tapline('status', publisherToken);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(summary);
});

it('exits 1 when the load fails, with the error and its explanation under the total', async () => {
  const run = await tapline('tap', 'run', 'strict', '--wait');
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/^success: 2 records in \d+ ms, run [0-9a-f-]{36}$/m);
  const lines = run.stdout.trimEnd().split('\n');
  const total = lines.indexOf('load error: 1 job, 0 records loaded through pipeline strict');
  expect(total).toBeGreaterThan(0);
  expect(lines[total + 1]).toBe(
    "  DataQuality failed: record 2: quality[0] (required on 'big') failed: value missing; " +
      'sample value: missing',
  );
  expect(lines[total + 2]).toMatch(
    /^ {2}why: A quality rule of pipeline 'strict' with onFailure 'fail' stopped the job/,
  );
  expect(lines).toHaveLength(total + 3);

  const publisherToken = /publisherToken ([0-9a-f-]{36})$/m.exec(run.stdout)![1]!;
  const status = await tapline('status', publisherToken);
  expect(status.code).toBe(1);
  expect(status.stdout).toContain(lines.slice(total).join('\n'));
});

it('on a terminal, colours its words and draws the load live; NO_COLOR turns colours off', async () => {
  const env = { TAPLINE_URL: session.server.url };
  const escape = '\u001b[';

  const run = await runCliOnTerminal(['tap', 'run', 'single', '--wait'], env);

  expect(run.code).toBe(0);
  // Each job's line is drawn over a cleared line, so the next poll can draw it again in place.
  expect(run.output).toMatch(/\u001b\[2K {2}single {2}[0-9a-f-]{36} {2}\u001b\[32msuccess/);
  expect(run.output).toContain(`${escape}32m`);

  const plain = await runCliOnTerminal(['tap', 'test', 'single'], { ...env, NO_COLOR: '1' });
  expect(plain.output).toContain('success: 1 record');
  expect(plain.output).not.toMatch(/\u001b\[\d+m/);
});
