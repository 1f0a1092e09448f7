import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ModelServer, startModelServer } from '../../src/explain/fixtures/model-server.js';
import { startTestApp, type TestApp, waitForLoad } from '../support/test-app.js';

// A model that never answers makes every explained run take the whole budget. The state used to
// stay uncommitted when the run's job finished loading before the run's record was saved.
let model: ModelServer;
let test: TestApp;
beforeAll(async () => {
  model = await startModelServer('openai');
  model.behaviour = 'hang';
  test = await startTestApp({
    ai: { provider: 'openai', baseUrl: model.baseUrl, model: 'slow', apiKey: 'k', budgetMs: 800 },
  });
});
afterAll(async () => {
  await test.close();
  await model.close();
});

it('commits the state of a slowly explained run once its job has loaded', async () => {
  await test.call('PUT', '/api/v1/pipelines/notes', {
    name: 'notes',
    destinations: [{ type: 'sqlite', table: 'notes', writeMode: 'append' }],
  });
  await test.call('PUT', '/api/v1/taps/notes', {
    name: 'notes',
    targetPipeline: 'notes',
    script: `TAP_STATE = {"last_id": 2}
def fetch():
    print("WARNING: the source is deprecated")
    return [{"id": 1}, {"id": 2}]
`,
  });

  const answer = await test.call('POST', '/api/v1/tap/run', { name: 'notes', mode: 'run' });
  expect(answer.body).toMatchObject({ status: 'success', persisted: true });
  expect(answer.body.aiExplanation).toContain('deprecat');
  const { rollup } = await waitForLoad(test, answer.body.publisherToken);
  expect(rollup.status).toBe('success');

  const run = await test.call('GET', `/api/v1/runs/${answer.body.runId}`);
  expect(run.body.stateCommitted).toBe(true);
  const state = await test.call('GET', '/api/v1/taps/notes/state');
  expect(state.body.state).toEqual({ last_id: 2 });
});
