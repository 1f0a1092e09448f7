/**
 * Explanations through the app: a configured model (a fake one on 127.0.0.1, speaking the
 * OpenAI or the Anthropic protocol) or the built-in rules write `aiExplanation`, and the stored
 * run keeps where it came from (`explanationSource`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ModelServer,
  type Protocol,
  startModelServer,
} from '../../src/explain/fixtures/model-server.js';
import { startTestApp, type TestApp, threeRecordsTap } from '../support/test-app.js';

const secretValue = 'tok-live-93f1c2a7';
const description = 'Orders from the shop API, updated hourly';
const params = { since: '2026-05-01', region: 'eu-west' };

// It prints its token and puts it in its error, as a careless script does.
const leakyScript = `import os

def fetch():
    token = os.environ["SHOP_TOKEN"]
    since = os.environ["TAP_PARAM_since"]
    print("calling the shop since", since, "with", token)
    raise RuntimeError("the shop refused token " + token)
`;

async function saveTap(test: TestApp, name: string, body: Record<string, unknown>) {
  const answer = await test.call('PUT', `/api/v1/taps/${name}`, body);
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
}

async function runTap(test: TestApp, body: Record<string, unknown>) {
  const answer = await test.call('POST', '/api/v1/tap/run', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body;
}

async function storedRun(test: TestApp, runId: string) {
  const answer = await test.call('GET', `/api/v1/runs/${runId}`);
  expect(answer.status).toBe(200);
  return answer.body;
}

/** Every string in a JSON request body, joined: the prompt as the model reads it. */
function promptText(body: string): string {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') strings.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(JSON.parse(body));
  return strings.join('\n');
}

describe.each<Protocol>(['openai', 'anthropic'])(
  'with a model speaking the %s protocol',
  (protocol) => {
    const modelName = `fake-${protocol}-model`;
    let model: ModelServer;
    let test: TestApp;

    beforeAll(async () => {
      model = await startModelServer(protocol);
      test = await startTestApp({
        ai: { provider: protocol, baseUrl: model.baseUrl, model: modelName, apiKey: 'model-key' },
      });
      const secret = await test.call('POST', '/api/v1/secrets', {
        name: 'shop',
        values: { SHOP_TOKEN: secretValue },
      });
      expect(secret.status).toBeLessThan(300);
      await saveTap(test, 'orders', { script: leakyScript, description, secret: 'shop' });
    });
    afterAll(async () => {
      await test.close();
      await model.close();
    });

    it("answers with the model's explanation, stores its name, and sends no secret", async () => {
      model.reply = `The shop refused the token ${secretValue}; renew the secret 'shop'.`;

      const answer = await runTap(test, { name: 'orders', params });

      expect(answer.status).toBe('failure');
      expect(answer.aiExplanation).toBe(
        "The shop refused the token ****; renew the secret 'shop'.",
      );
      const run = await storedRun(test, answer.runId);
      expect(run.explanation).toBe(answer.aiExplanation);
      expect(run.explanationSource).toBe(modelName);

      expect(model.requests).toHaveLength(1);
      const request = model.requests[0]!;
      expect(request.body).not.toContain(secretValue);
      const prompt = promptText(request.body);
      expect(prompt).toContain('RuntimeError: the shop refused token ****');
      expect(prompt).toContain('raise RuntimeError("the shop refused token " + token)');
      expect(prompt).toContain('"since":"2026-05-01"');
      expect(prompt).toContain('"region":"eu-west"');
      expect(prompt).toContain(description);
      expect(prompt).toContain('calling the shop since 2026-05-01 with ****');
      expect(JSON.parse(request.body).model).toBe(modelName);
    });

    it('falls back to the rules, and says so, when the model fails', async () => {
      model.behaviour = 'fail';
      try {
        const answer = await runTap(test, { name: 'orders', params });
        expect(answer.aiExplanation).toContain('RuntimeError');
        expect(answer.aiExplanation).not.toContain(secretValue);
        expect((await storedRun(test, answer.runId)).explanationSource).toBe('rules');
      } finally {
        model.behaviour = 'answer';
      }
    });
  },
);

describe('with the built-in rules', () => {
  let test: TestApp;

  beforeAll(async () => {
    test = await startTestApp();
  });
  afterAll(async () => test.close());

  it("stores 'rules' as the source of a failed run's explanation", async () => {
    await saveTap(test, 'exits', { script: 'import sys\n\ndef fetch():\n    sys.exit(3)\n' });

    const answer = await runTap(test, { name: 'exits' });

    expect(answer.aiExplanation).toContain('exit(3)');
    expect(answer.aiExplanation).toContain('there is no traceback');
    const run = await storedRun(test, answer.runId);
    expect(run).toMatchObject({ explanation: answer.aiExplanation, explanationSource: 'rules' });
  });

  it('stores no explanation and no source for a clean run with records', async () => {
    await saveTap(test, 'people', { script: threeRecordsTap });
    const answer = await runTap(test, { name: 'people' });
    expect(answer).not.toHaveProperty('aiExplanation');
    const run = await storedRun(test, answer.runId);
    expect(run).toMatchObject({ explanation: null, explanationSource: null });
  });

  it('explains a run whose secret was deleted: not started, the secret named', async () => {
    await test.call('POST', '/api/v1/secrets', { name: 'shop', values: { SHOP_TOKEN: 'x' } });
    await saveTap(test, 'needs-shop', { script: leakyScript, secret: 'shop' });
    expect((await test.call('DELETE', '/api/v1/secrets/shop?force=true')).status).toBe(204);

    const answer = await runTap(test, { name: 'needs-shop' });

    expect(answer.aiExplanation).toContain(
      "tapline did not start the script: the tap uses the secret 'shop', which does not exist",
    );
    expect(answer.aiExplanation).toContain('(SHOP_TOKEN)');
    expect((await storedRun(test, answer.runId)).explanationSource).toBe('rules');
  });

  it('explains a run whose target pipeline was deleted, not as a crash', async () => {
    const pipeline = await test.call('POST', '/api/v1/pipelines', {
      name: 'm18',
      destinations: [{ type: 'sqlite', table: 'm18' }],
    });
    expect(pipeline.status).toBeLessThan(300);
    await saveTap(test, 'xtap', { script: threeRecordsTap, targetPipeline: 'm18' });
    expect((await test.call('DELETE', '/api/v1/pipelines/m18?force=true')).status).toBe(204);

    const answer = await runTap(test, { name: 'xtap', mode: 'run' });

    expect(answer.status).toBe('failure');
    expect(answer.aiExplanation).toContain("the tap's target pipeline 'm18' no longer exists");
    expect(answer.aiExplanation).toContain("Create the pipeline 'm18' again");
    expect(answer.aiExplanation).not.toMatch(/crash|signal|memory/);
  });

  it("calls the tap's own timeoutSeconds the tap's limit, not the test-mode default", async () => {
    await saveTap(test, 'slow', {
      script: 'import time\n\ndef fetch():\n    time.sleep(30)\n    return []\n',
      timeoutSeconds: 1,
    });

    const answer = await runTap(test, { name: 'slow' });

    expect(answer.aiExplanation).toContain("the tap's own timeout of 1 s");
    expect(answer.aiExplanation).not.toContain('test-mode timeout');
  });
});
