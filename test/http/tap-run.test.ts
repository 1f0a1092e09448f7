import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
});
afterAll(async () => test.close());

async function saveTap(name: string, script: string, extra: Record<string, unknown> = {}) {
  const answer = await test.call('PUT', `/api/v1/taps/${name}`, { script, ...extra });
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
}

async function runTap(body: Record<string, unknown>) {
  const answer = await test.call('POST', '/api/v1/tap/run', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

describe('POST /api/v1/tap/run in test mode', () => {
  it('returns three dict records with columns in first-seen order', async () => {
    await saveTap('people', threeRecordsTap, { description: 'three people' });
    const answer = await runTap({ name: 'people' });
    expect(answer).toMatchObject({
      tap: 'people',
      description: 'three people',
      status: 'success',
      mode: 'test',
      targetPipeline: null,
      persisted: false,
      persistedReason: 'test_mode',
      recordCount: 3,
      recordsTruncated: false,
      dataType: 'json',
      columns: ['id', 'name', 'city', 'team'],
    });
    expect(answer.records).toEqual([
      { id: 1, name: 'Ada', city: 'London' },
      { id: 2, name: 'Grace', team: 'Navy' },
      { id: 3, name: 'Edsger', city: 'Austin' },
    ]);
    expect(answer.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isInteger(answer.durationMs)).toBe(true);
    expect(answer.durationMs).toBeLessThan(30_000);
    expect(answer).not.toHaveProperty('publisherToken');
    expect(answer).not.toHaveProperty('aiExplanation');
  });

  it('stops a ten-million-record generator after the default 20', async () => {
    const counter = path.join(mkdtempSync(path.join(tmpdir(), 'tapline-counter-')), 'count');
    await saveTap(
      'endless',
      `import os
def fetch():
    path = os.environ["TAP_PARAM_counter"]
    for i in range(10_000_000):
        with open(path, "w") as f:
            f.write(str(i + 1))
        yield {"i": i}
`,
    );
    const answer = await runTap({ name: 'endless', params: { counter } });
    expect(answer.recordCount).toBe(20);
    expect(answer.records).toHaveLength(20);
    expect(answer.records[19]).toEqual({ i: 19 });
    expect(answer.recordsTruncated).toBe(true);
    // The generator was asked for one record past the limit and no more.
    expect(Number(readFileSync(counter, 'utf8'))).toBeLessThanOrEqual(21);
    rmSync(path.dirname(counter), { recursive: true, force: true });
  });

  it('honours testLimit, and 0 returns every record', async () => {
    await saveTap('hundred', 'def fetch():\n    return ({"n": n} for n in range(100))\n');
    const five = await runTap({ name: 'hundred', testLimit: 5 });
    expect(five.records.map((r: { n: number }) => r.n)).toEqual([0, 1, 2, 3, 4]);
    expect(five.recordsTruncated).toBe(true);
    const all = await runTap({ name: 'hundred', testLimit: 0 });
    expect(all.recordCount).toBe(100);
    expect(all.recordsTruncated).toBe(false);
  });

  it('passes params as stringified environment variables', async () => {
    await saveTap(
      'echo-params',
      `import os, json
def fetch():
    return [{
        "since": os.environ["TAP_PARAM_since"],
        "n": os.environ["TAP_PARAM_n"],
        "flag": os.environ["TAP_PARAM_flag"],
        "opts": json.loads(os.environ["TAP_PARAM_opts"]),
        "none": os.environ["TAP_PARAM_none"],
        "datris": os.environ["DATRIS_TAP_PARAM_since"],
    }]
`,
    );
    const answer = await runTap({
      name: 'echo-params',
      params: { since: '2026-05-01', n: 5, flag: true, opts: { a: [1, 2] }, none: null },
    });
    expect(answer.records).toEqual([
      {
        since: '2026-05-01',
        n: '5',
        flag: 'true',
        opts: { a: [1, 2] },
        none: '',
        datris: '2026-05-01',
      },
    ]);
  });

  it('passes numbers exactly as written, even past what a double holds', async () => {
    await saveTap(
      'echo-numbers',
      'import os\ndef fetch():\n    return [{k: os.environ["TAP_PARAM_" + k] for k in ("big", "huge", "pi")}]\n',
    );
    const response = await test.app.inject({
      method: 'POST',
      url: '/api/v1/tap/run',
      headers: { 'content-type': 'application/json' },
      payload:
        '{"name": "echo-numbers", "params": {"big": 12345678901234567890, "huge": 1e400, "pi": 3.14}}',
    });
    expect(response.json().records).toEqual([
      { big: '12345678901234567890', huge: '1e400', pi: '3.14' },
    ]);
    const runId = response.json().runId;
    const stored = await test.app.inject({ method: 'GET', url: `/api/v1/runs/${runId}` });
    expect(stored.body).toContain('"params":{"big":12345678901234567890,"huge":"1e400","pi":3.14}');
  });

  it('puts print() output in logs and never in records', async () => {
    await saveTap(
      'chatty',
      'def fetch():\n    print("fetching page 1")\n    print("{\\"fake\\": 1}")\n    return [{"a": 1}]\n',
    );
    const answer = await runTap({ name: 'chatty' });
    expect(answer.records).toEqual([{ a: 1 }]);
    expect(answer.logs).toContain('fetching page 1');
    expect(answer.logs).toContain('{"fake": 1}');
  });

  it('reports a raising script as a failure with the exception', async () => {
    await saveTap('raises', 'def fetch():\n    raise ValueError("the API said no")\n');
    const answer = await runTap({ name: 'raises' });
    expect(answer.status).toBe('failure');
    expect(answer.persistedReason).toBe('test_mode');
    expect(answer.error).toContain('ValueError: the API said no');
    expect(answer.error).toContain('line 2');
    expect(answer.aiExplanation).toEqual(expect.any(String));
  });

  it('kills a script and its children at the timeout', async () => {
    await saveTap(
      'sleeper',
      `import subprocess, time
def fetch():
    subprocess.Popen(["sleep", "600.4242"])
    time.sleep(600)
`,
      { timeoutSeconds: 2 },
    );
    const answer = await runTap({ name: 'sleeper' });
    expect(answer.status).toBe('failure');
    expect(answer.error).toContain('2 s timeout');
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    expect(processes).not.toContain('sleep 600.4242');
  });

  it('keeps a 64-bit integer exact', async () => {
    await saveTap('bigint', 'def fetch():\n    return [{"id": 2033735037361704962}]\n');
    const response = await test.app.inject({
      method: 'POST',
      url: '/api/v1/tap/run',
      payload: { name: 'bigint' },
    });
    expect(response.body).toContain('"records":[{"id":2033735037361704962}]');
  });

  it('reads row lists with a header row as csv', async () => {
    await saveTap(
      'rows',
      'def fetch():\n    return [["date", "temp"], ["2026-05-01", 12.5], ["2026-05-02", 14]]\n',
    );
    const answer = await runTap({ name: 'rows' });
    expect(answer).toMatchObject({ dataType: 'csv', columns: ['date', 'temp'], recordCount: 2 });
    expect(answer.records).toEqual([
      { date: '2026-05-01', temp: 12.5 },
      { date: '2026-05-02', temp: 14 },
    ]);
  });

  it('fails a script without fetch with a message that says so', async () => {
    await saveTap('no-fetch', 'def get():\n    return []\n');
    const answer = await runTap({ name: 'no-fetch' });
    expect(answer.status).toBe('failure');
    expect(answer.error).toContain('fetch()');
  });
});

describe('POST /api/v1/tap/run in run mode without pipelines', () => {
  it('gives the persisted reasons in their order', async () => {
    await saveTap('empty', 'def fetch():\n    return []\n');
    const noTarget = await runTap({ name: 'people', mode: 'run' });
    expect(noTarget).toMatchObject({
      status: 'success',
      mode: 'run',
      persisted: false,
      persistedReason: 'no_target_pipeline',
      recordCount: 3,
    });
    expect(noTarget).not.toHaveProperty('records');

    const failing = await runTap({ name: 'raises', mode: 'run' });
    expect(failing.persistedReason).toBe('no_target_pipeline');

    await test.call('POST', '/api/v1/pipelines', {
      name: 'sink',
      destinations: [{ type: 'sqlite', table: 'sink', writeMode: 'append' }],
    });
    await saveTap('raises', 'def fetch():\n    raise ValueError("no")\n', {
      targetPipeline: 'sink',
    });
    await saveTap('empty', 'def fetch():\n    return []\n', { targetPipeline: 'sink' });
    const raised = await runTap({ name: 'raises', mode: 'run' });
    expect(raised).toMatchObject({
      status: 'failure',
      mode: 'run',
      persisted: false,
      persistedReason: 'run_error',
    });
    expect(raised.error).toMatch(/^ValueError: no$/m);
    expect(raised).not.toHaveProperty('publisherToken');
    const empty = await runTap({ name: 'empty', mode: 'run' });
    expect(empty).toMatchObject({
      status: 'success',
      persistedReason: 'no_records',
      recordCount: 0,
    });
  });

  it('refuses a second run-mode run of the same tap while one runs, never a test run', async () => {
    await saveTap(
      'slow',
      'import time\ndef fetch():\n    time.sleep(1.5)\n    return [{"a": 1}]\n',
    );
    const first = test.call('POST', '/api/v1/tap/run', { name: 'slow', mode: 'run' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await test.call('POST', '/api/v1/tap/run', { name: 'slow', mode: 'run' });
    const testRun = test.call('POST', '/api/v1/tap/run', { name: 'slow' });
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe('run_in_progress');
    const firstAnswer = await first;
    expect(second.body.error.runId).toBe(firstAnswer.body.runId);
    expect((await testRun).body.status).toBe('success');
  });
});

describe('bad run requests', () => {
  it('answers 400 naming the field and records nothing', async () => {
    const before = (await test.call('GET', '/api/v1/taps/people/runs?limit=500')).body.length;
    const cases: [unknown, string][] = [
      [{}, 'body.name'],
      [{ name: 'people', mode: 'deploy' }, 'body.mode'],
      [{ name: 'people', params: [1, 2] }, 'body.params'],
      [{ name: 'people', params: 'since=1' }, 'body.params'],
      [{ name: 'people', params: { 'bad-key': 1 } }, 'body.params'],
      [{ name: 'people', testLimit: -1 }, 'body.testLimit'],
      [{ name: 'people', testLimit: 2.5 }, 'body.testLimit'],
      [{ name: '../people' }, 'body.name'],
      [{ name: 'people', params: { text: 'a\u0000b' } }, 'body.params.text'],
      [{ name: 'people', testLimit: 1e400 }, 'body.testLimit'],
    ];
    for (const [body, field] of cases) {
      const answer = await test.call('POST', '/api/v1/tap/run', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toContain(field);
    }
    const after = (await test.call('GET', '/api/v1/taps/people/runs?limit=500')).body.length;
    expect(after).toBe(before);
  });

  it('refuses prototype keys in the body as malformed', async () => {
    const answer = await test.app.inject({
      method: 'POST',
      url: '/api/v1/tap/run',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "people", "params": {"__proto__": {"admin": true}}}',
    });
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe('malformed_json');
  });

  it('answers an unknown tap with 404', async () => {
    const answer = await test.call('POST', '/api/v1/tap/run', { name: 'nobody' });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('tap_not_found');
  });
});

describe('run history', () => {
  it('lists runs of both modes, newest first, and shows the last of each on the tap', async () => {
    await saveTap('history', threeRecordsTap);
    const tested = await runTap({ name: 'history', params: { since: '2026-05-01' } });
    const ran = await runTap({ name: 'history', mode: 'run' });

    const runs = (await test.call('GET', '/api/v1/taps/history/runs')).body;
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([ran.runId, tested.runId]);
    expect(runs[1]).toMatchObject({
      mode: 'test',
      trigger: 'api',
      params: { since: '2026-05-01' },
      status: 'success',
      recordCount: 3,
      dataType: 'json',
      columns: ['id', 'name', 'city', 'team'],
      error: null,
    });
    expect(runs[0]).toMatchObject({ mode: 'run', persistedReason: 'no_target_pipeline' });

    const one = (await test.call('GET', `/api/v1/runs/${tested.runId}`)).body;
    expect(one.logs).toBe(tested.logs);
    expect(typeof one.durationMs).toBe('number');

    const tap = (await test.call('GET', '/api/v1/taps/history')).body;
    expect(tap.lastTest).toMatchObject({ runId: tested.runId, status: 'success', recordCount: 3 });
    expect(tap.lastRun).toMatchObject({ runId: ran.runId, status: 'success' });

    const paged = (await test.call('GET', '/api/v1/taps/history/runs?limit=1&offset=1')).body;
    expect(paged.map((r: { runId: string }) => r.runId)).toEqual([tested.runId]);
  });

  it('stores a failed run with its error, and an empty run as no_records', async () => {
    const failed = await runTap({ name: 'raises' });
    expect((await test.call('GET', `/api/v1/runs/${failed.runId}`)).body).toMatchObject({
      status: 'failure',
      error: expect.stringContaining('ValueError'),
    });
    const empty = await runTap({ name: 'empty' });
    expect((await test.call('GET', `/api/v1/runs/${empty.runId}`)).body.status).toBe('no_records');
    expect((await test.call('GET', '/api/v1/runs/not-a-run')).status).toBe(404);
  });
});
