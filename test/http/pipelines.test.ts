import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  freePort,
  type ServerProcess,
  startServerProcess,
  waitForRollup,
} from '../support/server-process.js';
import { startTestApp, type TestApp, threeRecordsTap, waitForLoad } from '../support/test-app.js';

let test: TestApp;
let webhook: Server;
let webhookUrl: string;
const webhookCalls: string[] = [];

beforeAll(async () => {
  test = await startTestApp();
  webhook = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      webhookCalls.push(body);
      response.writeHead(500, { 'content-type': 'text/plain' }).end('warehouse is down');
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/ingest`;
});
afterAll(async () => {
  await test.close();
  webhook.close();
});

function warehouse() {
  const db = new Database(path.join(test.dataDir, 'warehouse.db'), { readonly: true });
  db.defaultSafeIntegers(true);
  return db;
}

async function save(kind: 'taps' | 'pipelines', name: string, body: Record<string, unknown>) {
  const answer = await test.call('PUT', `/api/v1/${kind}/${name}`, { name, ...body });
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
}

async function run(name: string, extra: Record<string, unknown> = {}) {
  const answer = await test.call('POST', '/api/v1/tap/run', { name, mode: 'run', ...extra });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

describe('run mode into the sqlite warehouse', () => {
  it('loads three records with merge on id, and a second run leaves three rows', async () => {
    await save('pipelines', 'people', {
      primaryKey: ['id'],
      destinations: [{ type: 'sqlite', table: 'people', writeMode: 'merge' }],
    });
    await save('taps', 'people', { script: threeRecordsTap, targetPipeline: 'people' });

    const answer = await run('people');
    expect(answer).toMatchObject({ status: 'success', persisted: true, recordCount: 3 });
    expect(answer).not.toHaveProperty('persistedReason');
    expect(answer.publisherToken).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.pipelineTokens).toHaveLength(1);

    const status = await waitForLoad(test, answer.publisherToken);
    expect(status.rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
    expect(status.rollup.jobs[0]).toMatchObject({
      pipelineToken: answer.pipelineTokens[0],
      pipeline: 'people',
      status: 'success',
      lastError: null,
    });
    const processes = status.events.map(
      (e: { processName: string; state: string }) => `${e.processName}:${e.state}`,
    );
    expect(processes[0]).toBe('JobRunner:begin');
    expect(processes).toContain('StreamNotifier:begin');
    expect(processes).toContain('StreamNotifier:end');
    expect(processes).toContain('SqliteLoader:end');
    expect(processes.at(-1)).toBe('JobRunner:end');

    await waitForLoad(test, (await run('people')).publisherToken);
    const db = warehouse();
    expect(db.prepare('SELECT id, name, city, team FROM people ORDER BY id').all()).toEqual([
      { id: 1n, name: 'Ada', city: 'London', team: null },
      { id: 2n, name: 'Grace', city: null, team: 'Navy' },
      { id: 3n, name: 'Edsger', city: 'Austin', team: null },
    ]);
    db.close();

    const runView = (await test.call('GET', `/api/v1/runs/${answer.runId}`)).body;
    expect(runView.rollup).toMatchObject({ status: 'success', allDone: true });
  });

  it('lands 64-bit integers, decimals, booleans, null, unicode and nested JSON exactly', async () => {
    await save('pipelines', 'exact', {
      primaryKey: ['id'],
      schema: [
        { name: 'id', type: 'integer' },
        { name: 'amount', type: 'decimal' },
        { name: 'ok', type: 'boolean' },
        { name: 'note', type: 'string' },
        { name: 'nested', type: 'json' },
      ],
      destinations: [{ type: 'sqlite', table: 'exact', writeMode: 'merge' }],
    });
    await save('taps', 'exact', {
      targetPipeline: 'exact',
      script: `from decimal import Decimal
def fetch():
    return [
        {"id": 2033735037361704962, "amount": Decimal("12345678901234567890.123456789"),
         "ok": True, "note": "Zürich ☃ 東京", "nested": {"a": [1, {"b": None}]}},
        {"id": -9223372036854775808, "amount": None, "ok": False, "note": None, "nested": []},
    ]
`,
    });
    await waitForLoad(test, (await run('exact')).publisherToken);
    const db = warehouse();
    expect(db.prepare('SELECT * FROM exact ORDER BY id').all()).toEqual([
      { id: -9223372036854775808n, amount: null, ok: 0n, note: null, nested: '[]' },
      {
        id: 2033735037361704962n,
        amount: '12345678901234567890.123456789',
        ok: 1n,
        note: 'Zürich ☃ 東京',
        nested: '{"a":[1,{"b":null}]}',
      },
    ]);
    db.close();
  });

  it('reports a failing destination in the rollup and does not commit state', async () => {
    await save('pipelines', 'hook', {
      destinations: [{ type: 'webhook', url: webhookUrl, retries: 1, timeoutMs: 2000 }],
    });
    await save('taps', 'hooked', {
      targetPipeline: 'hook',
      script: 'TAP_STATE = {"cursor": "after"}\ndef fetch():\n    return [{"a": 1}]\n',
    });
    await test.call('PUT', '/api/v1/taps/hooked/state', { cursor: 'before' });

    const answer = await run('hooked');
    const status = await waitForLoad(test, answer.publisherToken);
    expect(status.rollup.status).toBe('error');
    expect(status.rollup.jobs[0].status).toBe('error');
    expect(status.rollup.jobs[0].lastError.processName).toBe('WebhookLoader');
    expect(status.rollup.jobs[0].lastError.description).toContain('500');
    expect(status.rollup.jobs[0].lastError.explanation).toEqual(expect.any(String));
    expect(webhookCalls.length).toBeGreaterThanOrEqual(1);
    expect((await test.call('GET', '/api/v1/taps/hooked/state')).body.state).toEqual({
      cursor: 'before',
    });
  });

  it('rolls up a job with rejected rows as warning', async () => {
    await save('pipelines', 'checked', {
      quality: [{ field: 'email', check: 'required', onFailure: 'reject' }],
      destinations: [{ type: 'sqlite', table: 'checked', writeMode: 'append' }],
    });
    await save('taps', 'checked', {
      targetPipeline: 'checked',
      script: 'def fetch():\n    return [{"email": "a@b.c"}, {"email": None}, {"name": "x"}]\n',
    });
    const status = await waitForLoad(test, (await run('checked')).publisherToken);
    expect(status.rollup.status).toBe('warning');
    const warning = status.events.find((e: { code: string }) => e.code === 'warning');
    expect(warning.processName).toBe('DataQuality');
    expect(warning.description).toContain('2');
    const db = warehouse();
    expect(db.prepare('SELECT count(*) AS n FROM checked').get()).toEqual({ n: 1n });
    db.close();
  });
});

describe('schema inference without a declared schema', () => {
  it('widens integer to number when fractions come after the first batch', async () => {
    await save('pipelines', 'amounts', {
      destinations: [{ type: 'sqlite', table: 'amounts', writeMode: 'append' }],
    });
    await save('taps', 'amounts', {
      targetPipeline: 'amounts',
      script:
        'def fetch():\n    for i in range(200):\n        yield {"id": i, "amount": 2 if i < 130 else 2.5}\n',
    });
    const status = await waitForLoad(test, (await run('amounts')).publisherToken);
    expect(status.rollup).toMatchObject({ status: 'success', allDone: true });
    const db = warehouse();
    expect(db.prepare('SELECT count(*) AS n, sum(amount) AS total FROM amounts').get()).toEqual({
      n: 200n,
      total: 435,
    });
    expect(db.prepare('SELECT amount FROM amounts WHERE id = 199').get()).toEqual({ amount: 2.5 });
    db.close();
  });

  it('lands an integer outside 64 bits, and its neighbours, exactly as decimal text', async () => {
    await save('pipelines', 'bigs', {
      destinations: [{ type: 'sqlite', table: 'bigs', writeMode: 'append' }],
    });
    await save('taps', 'bigs', {
      targetPipeline: 'bigs',
      script: 'def fetch():\n    return [{"id": 1, "big": 2**70}, {"id": 2, "big": 5}]\n',
    });
    const status = await waitForLoad(test, (await run('bigs')).publisherToken);
    expect(status.rollup).toMatchObject({ status: 'success', allDone: true });
    const db = warehouse();
    expect(db.prepare('SELECT id, big FROM bigs ORDER BY id').all()).toEqual([
      { id: 1n, big: '1180591620717411303424' },
      { id: 2n, big: '5' },
    ]);
    expect(
      db.prepare("SELECT type FROM pragma_table_info('bigs') WHERE name = 'big'").get(),
    ).toEqual({ type: 'DECIMAL TEXT' });
    db.close();
  });
});

describe('run history', () => {
  it('lists each run that submitted jobs with its rollup, as GET /runs/{runId} shows it', async () => {
    await save('pipelines', 'listed', {
      destinations: [{ type: 'sqlite', table: 'listed', writeMode: 'append' }],
    });
    await save('taps', 'listed', { script: threeRecordsTap, targetPipeline: 'listed' });
    const tested = await test.call('POST', '/api/v1/tap/run', { name: 'listed' });
    const first = await run('listed');
    const second = await run('listed');
    await waitForLoad(test, first.publisherToken);
    await waitForLoad(test, second.publisherToken);

    const runs = (await test.call('GET', '/api/v1/taps/listed/runs')).body;
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([
      second.runId,
      first.runId,
      tested.body.runId,
    ]);
    for (const [index, answer] of [second, first].entries()) {
      expect(runs[index].rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
      expect(runs[index].rollup.jobs).toEqual([
        expect.objectContaining({
          pipelineToken: answer.pipelineTokens[0],
          status: 'success',
          recordCount: 3,
        }),
      ]);
      const one = (await test.call('GET', `/api/v1/runs/${answer.runId}`)).body;
      expect(runs[index].rollup.jobs).toEqual(one.rollup.jobs);
    }
    expect(runs[2]).not.toHaveProperty('rollup');

    const document = (await test.app.inject({ method: 'GET', url: '/docs/json' })).json();
    const listed =
      document.paths['/api/v1/taps/{name}/runs'].get.responses['200'].content['application/json']
        .schema.items.properties.rollup;
    expect(Object.keys(listed.properties)).toEqual(['status', 'allDone', 'jobCount', 'jobs']);
    expect(listed.description).toContain('in lists too');
  });
});

describe('state', () => {
  const incremental = `import os, json
state = json.loads(os.environ.get("TAP_STATE") or "{}")
def fetch():
    global TAP_STATE
    start = state.get("next", 0)
    TAP_STATE = {"next": start + 2}
    return [{"n": start}, {"n": start + 1}]
`;

  it('commits state after a successful load, not for param runs unless asked', async () => {
    await save('pipelines', 'numbers', {
      primaryKey: ['n'],
      destinations: [{ type: 'sqlite', table: 'numbers', writeMode: 'merge' }],
    });
    await save('taps', 'numbers', { script: incremental, targetPipeline: 'numbers' });

    await waitForLoad(test, (await run('numbers')).publisherToken);
    expect((await test.call('GET', '/api/v1/taps/numbers/state')).body.state).toEqual({ next: 2 });

    await waitForLoad(test, (await run('numbers', { params: { since: 'x' } })).publisherToken);
    expect((await test.call('GET', '/api/v1/taps/numbers/state')).body.state).toEqual({ next: 2 });

    const asked = await run('numbers', { params: { since: 'x' }, updateState: true });
    await waitForLoad(test, asked.publisherToken);
    expect((await test.call('GET', '/api/v1/taps/numbers/state')).body.state).toEqual({ next: 4 });

    const tested = await test.call('POST', '/api/v1/tap/run', { name: 'numbers' });
    expect(tested.body.records).toEqual([{ n: 4 }, { n: 5 }]);
    expect((await test.call('GET', '/api/v1/taps/numbers/state')).body.state).toEqual({ next: 4 });

    expect((await test.call('DELETE', '/api/v1/taps/numbers/state')).status).toBe(204);
    expect((await test.call('GET', '/api/v1/taps/numbers/state')).body.state).toBeNull();
  });
});

describe('state after a load', () => {
  it('commits the run’s state when its job ends in warning', async () => {
    await save('pipelines', 'warned', {
      quality: [{ field: 'email', check: 'required', onFailure: 'reject' }],
      destinations: [{ type: 'sqlite', table: 'warned', writeMode: 'append' }],
    });
    await save('taps', 'warned', {
      targetPipeline: 'warned',
      script:
        'TAP_STATE = {"cursor": "after"}\n' +
        'def fetch():\n    return [{"email": "a@b.c"}, {"email": None}]\n',
    });
    await test.call('PUT', '/api/v1/taps/warned/state', { cursor: 'before' });

    const answer = await run('warned');
    const status = await waitForLoad(test, answer.publisherToken);
    expect(status.rollup.status).toBe('warning');
    expect((await test.call('GET', '/api/v1/taps/warned/state')).body.state).toEqual({
      cursor: 'after',
    });
    expect((await test.call('GET', `/api/v1/runs/${answer.runId}`)).body.stateCommitted).toBe(true);
  });

  it('leaves the stored state exactly as it was when the script fails', async () => {
    await save('taps', 'breaks', {
      targetPipeline: 'warned',
      script:
        'TAP_STATE = {"cursor": "after"}\n' +
        'def fetch():\n    yield {"email": "a@b.c"}\n    raise RuntimeError("page 2 failed")\n',
    });
    await test.call('PUT', '/api/v1/taps/breaks/state', { cursor: 'before', seen: [1, 2] });
    const before = (await test.call('GET', '/api/v1/taps/breaks/state')).body;

    const answer = await run('breaks');
    expect(answer).toMatchObject({ status: 'failure', persisted: false });
    expect((await test.call('GET', '/api/v1/taps/breaks/state')).body).toEqual(before);
    expect(before.state).toEqual({ cursor: 'before', seen: [1, 2] });
    expect((await test.call('GET', `/api/v1/runs/${answer.runId}`)).body.stateCommitted).toBe(
      false,
    );
  });
});

describe('staged records', () => {
  // A data directory of its own, so that the staging folder holds only this test's runs.
  let own: TestApp;
  beforeAll(async () => {
    own = await startTestApp();
  });
  afterAll(async () => own.close());

  it('are removed once their job succeeded, and kept when it failed', async () => {
    const staging = path.join(own.dataDir, 'staging');
    const put = async (kind: string, name: string, body: Record<string, unknown>) => {
      const answer = await own.call('PUT', `/api/v1/${kind}/${name}`, { name, ...body });
      expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    };
    await put('pipelines', 'kept', {
      destinations: [{ type: 'sqlite', table: 'kept', writeMode: 'append' }],
    });
    await put('pipelines', 'refused', {
      destinations: [{ type: 'webhook', url: webhookUrl, retries: 0 }],
    });
    await put('taps', 'kept', { script: threeRecordsTap, targetPipeline: 'kept' });
    await put('taps', 'refused', { script: threeRecordsTap, targetPipeline: 'refused' });

    const loaded = await own.call('POST', '/api/v1/tap/run', { name: 'kept', mode: 'run' });
    expect((await waitForLoad(own, loaded.body.publisherToken)).rollup.status).toBe('success');
    expect(readdirSync(staging)).toEqual([]);

    const failed = await own.call('POST', '/api/v1/tap/run', { name: 'refused', mode: 'run' });
    expect((await waitForLoad(own, failed.body.publisherToken)).rollup.status).toBe('error');
    expect(readdirSync(staging)).toEqual([`${failed.body.runId}.ndjson`]);
    const staged = readFileSync(path.join(staging, `${failed.body.runId}.ndjson`), 'utf8');
    expect(
      staged
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { id: 1, name: 'Ada', city: 'London' },
      { id: 2, name: 'Grace', team: 'Navy' },
      { id: 3, name: 'Edsger', city: 'Austin' },
    ]);
  });
});

describe('GET /api/v1/pipeline/status', () => {
  it('pages a pipeline’s jobs, 20 a page, newest first', async () => {
    await save('pipelines', 'paged', {
      destinations: [{ type: 'sqlite', table: 'paged', writeMode: 'append' }],
    });
    await save('taps', 'paged', {
      script: 'def fetch():\n    return [{"a": 1}]\n',
      targetPipeline: 'paged',
    });
    const tokens: string[] = [];
    for (let i = 0; i < 21; i++) tokens.push((await run('paged')).pipelineTokens[0]);
    await test.context.queue.idle();

    const first = (
      await test.call('GET', '/api/v1/pipeline/status?pipelinename=paged&withrollup=true')
    ).body;
    expect(first.rollup.jobCount).toBe(20);
    expect(first.rollup.jobs[0].pipelineToken).toBe(tokens[20]);
    const second = (
      await test.call('GET', '/api/v1/pipeline/status?pipelinename=paged&page=2&withrollup=true')
    ).body;
    expect(second.rollup.jobs.map((j: { pipelineToken: string }) => j.pipelineToken)).toEqual([
      tokens[0],
    ]);

    const one = (await test.call('GET', `/api/v1/pipeline/status?pipelinetoken=${tokens[3]}`)).body;
    expect(Array.isArray(one)).toBe(true);
    expect(new Set(one.map((e: { pipelineToken: string }) => e.pipelineToken))).toEqual(
      new Set([tokens[3]]),
    );
  });

  it('answers an unknown token with no events and a rollup that is not done', async () => {
    const plain = await test.call('GET', '/api/v1/pipeline/status?publishertoken=nobody');
    expect(plain).toMatchObject({ status: 200, body: [] });
    const rolled = await test.call(
      'GET',
      '/api/v1/pipeline/status?publishertoken=nobody&withrollup=true',
    );
    expect(rolled.body).toEqual({
      rollup: { status: 'processing', allDone: false, jobCount: 0, jobs: [] },
      events: [],
    });
    expect((await test.call('GET', '/api/v1/pipeline/status')).status).toBe(400);
  });
});

describe('pipeline registry', () => {
  it('refuses bad definitions naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { name: 'm', destinations: [{ type: 'sqlite', table: 't', writeMode: 'merge' }] },
        'primaryKey',
      ],
      [{ name: 'm', destinations: [{ type: 'ftp', url: 'x' }] }, 'destinations[0]'],
      [
        {
          name: 'm',
          schema: [{ name: 'a', type: 'money' }],
          destinations: [{ type: 'sqlite', table: 't' }],
        },
        'schema[0].type',
      ],
      [
        { name: 'm', destinations: [{ type: 'sqlite', table: 'x; DROP TABLE taps' }] },
        'destinations[0].table',
      ],
    ];
    for (const [body, field] of cases) {
      const answer = await test.call('POST', '/api/v1/pipelines', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toContain(field);
    }
    expect((await test.call('GET', '/api/v1/pipelines/m')).status).toBe(404);
  });

  it("refuses destination paths that leave the data directory with '..' or reach tapline's own files", async () => {
    const sqlite = (file: string) => ({ type: 'sqlite', table: 'tap_state', path: file });
    const cases: [Record<string, unknown>, string][] = [
      [sqlite('tapline.db'), "'tapline.db' is the name of tapline's metadata database"],
      [sqlite('./tapline.db-wal'), "'tapline.db-wal' is the name of tapline's metadata database"],
      [sqlite('tapline.db-shm'), "'tapline.db-shm' is the name of tapline's metadata database"],
      [sqlite('secret.key'), "'secret.key' is the name of tapline's secret key file"],
      [sqlite('staging/w.db'), 'staging/ holds the records tapline stages for its jobs'],
      [sqlite('../../../tmp/evil.db'), "a path may not contain a '..' segment"],
      [{ type: 'file', path: 'exports/../../out' }, "a path may not contain a '..' segment"],
      [{ type: 'file', path: 'staging' }, 'staging/ holds the records tapline stages'],
    ];
    for (const [target, message] of cases) {
      const answer = await test.call('PUT', '/api/v1/pipelines/x', {
        name: 'x',
        destinations: [target],
      });
      expect(answer.status, JSON.stringify(target)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.message).toContain(`body.destinations[0].path: ${message}`);
    }
    expect((await test.call('GET', '/api/v1/pipelines/x')).status).toBe(404);

    const elsewhere = await test.call('PUT', '/api/v1/pipelines/x', {
      name: 'x',
      destinations: [sqlite('/data/warehouse.db'), { type: 'file', path: '/data/exports' }],
    });
    expect(elsewhere.status).toBe(201);
    expect((await test.call('DELETE', '/api/v1/pipelines/x')).status).toBe(204);
  });

  it('refuses a pattern RE2 cannot run in linear time, saying RE2 syntax is required', async () => {
    const answer = await test.call('POST', '/api/v1/pipelines', {
      name: 'doubled',
      quality: [{ field: 'word', check: 'pattern', pattern: '^(\\w+) \\1$' }],
      destinations: [{ type: 'sqlite', table: 'doubled' }],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(
      /^body\.quality\[0\]\.pattern: not RE2 syntax \(invalid escape sequence: `\\1`\); patterns must be RE2 regular expressions/,
    );
    expect((await test.call('GET', '/api/v1/pipelines/doubled')).status).toBe(404);
  });

  it('deletes a stored pipeline whose definition the current rules refuse', async () => {
    await test.context.store.pipelines.put('legacy', {
      name: 'legacy',
      destinations: [{ type: 'sqlite', table: 'tap_state', path: 'tapline.db' }],
    });
    const read = await test.call('GET', '/api/v1/pipelines/legacy');
    expect(read.status).toBe(400);
    expect(read.body.error.message).toContain("destinations[0].path: 'tapline.db' is the name");
    expect((await test.call('DELETE', '/api/v1/pipelines/legacy')).status).toBe(204);
    expect((await test.call('GET', '/api/v1/pipelines/legacy')).status).toBe(404);
  });

  it('refuses a duplicate name, and deleting a targeted pipeline without force', async () => {
    const again = await test.call('POST', '/api/v1/pipelines', {
      name: 'people',
      destinations: [{ type: 'sqlite', table: 'people' }],
    });
    expect(again.status).toBe(409);
    const refused = await test.call('DELETE', '/api/v1/pipelines/people');
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'pipeline_in_use', taps: ['people'] });
    expect((await test.call('DELETE', '/api/v1/pipelines/people?force=true')).status).toBe(204);
    const orphan = await run('people');
    expect(orphan).toMatchObject({
      status: 'failure',
      persisted: false,
      persistedReason: 'run_error',
    });
    expect(orphan.error).toContain("'people' no longer exists");
  });
});

describe('a pattern rule on a hostile value', () => {
  // A real server process: a backtracking regex would freeze an in-process app together with
  // this test, which could then never time out and fail.
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-pattern-'));
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess(dataDir, await freePort());
  });
  afterAll(async () => {
    // SIGKILL: a server stuck in a regex would never get to handle SIGTERM.
    server.child.kill('SIGKILL');
    await server.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('rejects a 10,000-character value that backtracking would take for ever on', async () => {
    const pipeline = await api(server.url, 'POST', '/pipelines', {
      name: 'words',
      quality: [{ field: 'a', check: 'pattern', pattern: '(a+)+$', onFailure: 'reject' }],
      destinations: [{ type: 'sqlite', table: 'words' }],
    });
    expect(pipeline.status, JSON.stringify(pipeline.body)).toBe(201);
    await api(server.url, 'POST', '/taps', {
      name: 'words',
      targetPipeline: 'words',
      script: 'def fetch():\n    return [{"a": "a" * 10_000 + "!"}, {"a": "aaa"}]\n',
    });

    const run = await api(server.url, 'POST', '/tap/run', { name: 'words', mode: 'run' });
    expect(run.body).toMatchObject({ status: 'success', recordCount: 2 });
    const status = await waitForRollup(server.url, run.body.publisherToken);
    expect(status.rollup).toMatchObject({ status: 'warning', allDone: true });
    const warning = status.events.find((event: { code: string }) => event.code === 'warning');
    expect(warning.description).toMatch(
      /^rejected 1 of 2 records: record 1: quality\[0\] \(pattern on 'a'\) failed: "a{20,}/,
    );
    const db = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
    expect(db.prepare('SELECT a FROM words').all()).toEqual([{ a: 'aaa' }]);
    db.close();
  });
});
