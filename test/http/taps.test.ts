import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
});
afterAll(async () => test.close());

describe('tap registry', () => {
  it('creates a tap at version 1 and refuses the same name again', async () => {
    const created = await test.call('POST', '/api/v1/taps', {
      name: 'people',
      description: 'three people',
      script: threeRecordsTap,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'people',
      description: 'three people',
      kind: 'structured',
      targetPipeline: null,
      schedule: null,
      enabled: true,
      secret: null,
      timeoutSeconds: null,
      version: 1,
      lastTest: null,
      lastRun: null,
      nextRunAt: null,
    });

    const again = await test.call('POST', '/api/v1/taps', { name: 'people', script: 'x' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('tap_exists');
  });

  it('makes a new version only when the script changes', async () => {
    const base = { name: 'versioned', script: 'def fetch():\n    return []\n' };
    expect((await test.call('PUT', '/api/v1/taps/versioned', base)).status).toBe(201);
    const sameScript = await test.call('PUT', '/api/v1/taps/versioned', {
      ...base,
      description: 'only the description changed',
    });
    expect(sameScript.status).toBe(200);
    expect(sameScript.body.version).toBe(1);

    const changed = await test.call('PUT', '/api/v1/taps/versioned', {
      script: 'def fetch():\n    return [{"a": 1}]\n',
    });
    expect(changed.body.version).toBe(2);

    const versions = await test.call('GET', '/api/v1/taps/versioned/versions');
    expect(versions.body.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body[1].script).toBe(base.script);
  });

  it('accepts a GET answer sent back as a PUT body', async () => {
    const { body: tap } = await test.call('GET', '/api/v1/taps/people');
    const put = await test.call('PUT', '/api/v1/taps/people', { ...tap, description: 'edited' });
    expect(put.status).toBe(200);
    expect(put.body.description).toBe('edited');
    expect(put.body.version).toBe(1);
  });

  it('lists taps by name and shows a schedule with its next run', async () => {
    await test.call('PUT', '/api/v1/taps/scheduled', {
      script: threeRecordsTap,
      schedule: { cron: '0 6 * * *', timezone: 'Europe/Paris' },
    });
    const { body } = await test.call('GET', '/api/v1/taps');
    expect(body.map((t: { name: string }) => t.name)).toEqual(['people', 'scheduled', 'versioned']);
    const scheduled = body.find((t: { name: string }) => t.name === 'scheduled');
    expect(scheduled.nextRunAt).toMatch(/^\d{4}-\d\d-\d\dT0[45]:00:00\.000Z$/);
  });

  it('refuses bad bodies with a 400 naming the field and saves nothing', async () => {
    const cases: [unknown, string][] = [
      [{ script: threeRecordsTap }, 'body.name'],
      [{ name: '../etc/passwd', script: threeRecordsTap }, 'body.name'],
      [{ name: 'x;drop table taps', script: threeRecordsTap }, 'body.name'],
      [{ name: 'ok', script: '' }, 'body.script'],
      [{ name: 'ok', script: threeRecordsTap, kind: 'video' }, 'body.kind'],
      [
        { name: 'ok', script: threeRecordsTap, schedule: { cron: 'every day' } },
        'body.schedule.cron',
      ],
      [
        {
          name: 'ok',
          script: threeRecordsTap,
          schedule: { cron: '0 6 * * *', timezone: 'Mars/Base' },
        },
        'body.schedule.timezone',
      ],
      [{ name: 'ok', script: threeRecordsTap, timeoutSeconds: -1 }, 'body.timeoutSeconds'],
      [{ name: 'ok', script: threeRecordsTap, colour: 'blue' }, 'body'],
    ];
    for (const [body, field] of cases) {
      const answer = await test.call('POST', '/api/v1/taps', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('validation_failed');
      expect(answer.body.error.message).toContain(field);
    }
    expect((await test.call('GET', '/api/v1/taps/ok')).status).toBe(404);
  });

  it('refuses a target pipeline that does not exist with 422', async () => {
    const answer = await test.call('POST', '/api/v1/taps', {
      name: 'orphan',
      script: threeRecordsTap,
      targetPipeline: 'nowhere',
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error).toMatchObject({ code: 'unknown_pipeline' });
    expect(answer.body.error.message).toContain("'nowhere'");
  });

  it('answers malformed JSON, wrong content and oversized bodies as JSON errors', async () => {
    const malformed = await test.app.inject({
      method: 'POST',
      url: '/api/v1/taps',
      headers: { 'content-type': 'application/json' },
      payload: '{"name": "broken",',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('malformed_json');

    const huge = await test.app.inject({
      method: 'POST',
      url: '/api/v1/taps',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'huge', script: 'x'.repeat(1_100_000) }),
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().error.code).toBe('body_too_large');
    expect((await test.call('GET', '/api/v1/taps/huge')).status).toBe(404);
  });

  it('answers an unknown tap with 404 and near names', async () => {
    const answer = await test.call('GET', '/api/v1/taps/peple');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'tap_not_found', similar: ['people'] });
  });

  it('deletes a tap with its runs and state', async () => {
    await test.call('PUT', '/api/v1/taps/doomed', { script: threeRecordsTap });
    const tested = await test.call('POST', '/api/v1/tap/run', { name: 'doomed' });
    await test.call('PUT', '/api/v1/taps/doomed/state', { cursor: '2026-01-01' });

    expect((await test.call('DELETE', '/api/v1/taps/doomed')).status).toBe(204);
    expect((await test.call('GET', `/api/v1/runs/${tested.body.runId}`)).status).toBe(404);
    expect((await test.call('GET', '/api/v1/taps/doomed/state')).status).toBe(404);
    await test.call('PUT', '/api/v1/taps/doomed', { script: threeRecordsTap });
    expect((await test.call('GET', '/api/v1/taps/doomed/runs')).body).toEqual([]);
    expect((await test.call('GET', '/api/v1/taps/doomed/state')).body.state).toBeNull();
    expect((await test.call('DELETE', '/api/v1/taps/never-was')).status).toBe(404);
  });

  it('refuses to delete a tap while one of its runs is going', async () => {
    await test.call('PUT', '/api/v1/taps/busy', {
      script: 'import time\ndef fetch():\n    time.sleep(1)\n    return [{"a": 1}]\n',
    });
    const run = test.call('POST', '/api/v1/tap/run', { name: 'busy', mode: 'run' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const refused = await test.call('DELETE', '/api/v1/taps/busy');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('run_in_progress');
    expect(refused.body.error.runId).toBe((await run).body.runId);
    expect((await test.call('DELETE', '/api/v1/taps/busy')).status).toBe(204);
  });

  it('answers /healthz and unknown routes as JSON', async () => {
    expect((await test.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    const unknown = await test.call('GET', '/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});

describe('taps and secrets', () => {
  it('refuses a tap naming a secret that does not exist, and fails a run whose secret was deleted', async () => {
    const refused = await test.call('POST', '/api/v1/taps', {
      name: 'needs-secret',
      script: threeRecordsTap,
      secret: 'shop',
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe('unknown_secret');

    await test.call('POST', '/api/v1/secrets', {
      name: 'shop',
      values: { SHOP_TOKEN: 'tok_12345' },
    });
    await test.call('POST', '/api/v1/taps', {
      name: 'needs-secret',
      script: threeRecordsTap,
      secret: 'shop',
    });
    // Forced: a secret that a tap names is otherwise kept (409 secret_in_use).
    await test.call('DELETE', '/api/v1/secrets/shop?force=true');
    const run = await test.call('POST', '/api/v1/tap/run', { name: 'needs-secret' });
    expect(run.body).toMatchObject({ status: 'failure', recordCount: 0, logs: '' });
    expect(run.body.error).toContain("secret 'shop' named by tap 'needs-secret' does not exist");
    expect(run.body.aiExplanation).toContain("'shop'");
  });

  it('refuses secret fields that would replace what tapline sets for scripts', async () => {
    for (const field of ['PATH', 'TAP_PARAM_since', 'PYTHONPATH', 'https_proxy']) {
      const answer = await test.call('POST', '/api/v1/secrets', {
        name: 'bad',
        values: { [field]: 'x' },
      });
      expect(answer.status, field).toBe(400);
      expect(answer.body.error.message).toContain(field);
    }
    expect((await test.call('GET', '/api/v1/secrets')).body).toEqual([]);
  });

  it('answers a body that is not JSON with 415', async () => {
    const answer = await test.app.inject({
      method: 'POST',
      url: '/api/v1/taps',
      headers: { 'content-type': 'text/plain' },
      payload: 'name: x',
    });
    expect(answer.statusCode).toBe(415);
    expect(answer.json().error.code).toBe('unsupported_media_type');
  });
});
