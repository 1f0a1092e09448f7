import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../config/config.js';
import { explainJobError, explainRun, type RunFacts } from './explain.js';
import { startModelServer, type ModelServer, type Protocol } from './fixtures/model-server.js';
import { runTap } from './fixtures/tap-run.js';
import { startSource, type Source } from './fixtures/source-server.js';

const secretValue = 's3cr3t-token-4711';
const mask = (text: string) => text.replaceAll(secretValue, '****');

// A leaky script: it prints its token before the source refuses it.
const script =
  'import os, urllib.request\n\ndef fetch():\n    token = os.environ["SHOP_TOKEN"]\n' +
  '    print("calling the shop with", token)\n' +
  '    request = urllib.request.Request(os.environ["TAP_PARAM_base_url"] + "/status/401",\n' +
  '                                     headers={"Authorization": "Bearer " + token})\n' +
  '    return urllib.request.urlopen(request).read()\n';

let source: Source;
let facts: RunFacts;
beforeAll(async () => {
  source = await startSource();
  facts = await runTap(script, {
    params: { base_url: source.url },
    secret: 'shop_api',
    secretEnv: { SHOP_TOKEN: secretValue },
  });
});
afterAll(async () => {
  await source.close();
});

describe.each<Protocol>(['openai', 'anthropic'])('a model speaking the %s protocol', (protocol) => {
  let model: ModelServer;
  let ai: Config['ai'];

  beforeAll(async () => {
    model = await startModelServer(protocol);
  });
  afterAll(async () => {
    await model.close();
  });
  beforeEach(() => {
    model.requests.length = 0;
    model.behaviour = 'answer';
    ai = {
      provider: protocol,
      baseUrl: model.baseUrl,
      model: `fake-${protocol}`,
      apiKey: 'model-key',
      budgetMs: 5_000,
    };
  });

  it('gets the error and the script without the secret, and its answer is the explanation', async () => {
    expect(facts.logs).toContain(secretValue); // the script really leaked it
    model.reply = `The shop refused the token ${secretValue} (HTTP 401); renew the shop_api secret.`;

    const explanation = await explainRun(facts, { ai, mask });

    expect(explanation).toEqual({
      text: 'The shop refused the token **** (HTTP 401); renew the shop_api secret.',
      source: `fake-${protocol}`,
    });
    expect(model.requests).toHaveLength(1);
    const body = model.requests[0]?.body ?? '';
    expect(body).toContain('HTTP Error 401: Unauthorized');
    expect(body).toContain('def fetch():');
    expect(body).toContain('calling the shop with ****');
    expect(body).toContain("secret 'shop_api'"); // the rules' hint
    expect(body).not.toContain(secretValue);
  });

  it('answers with the rules within the budget when the model hangs', async () => {
    model.behaviour = 'hang';
    const started = Date.now();

    const explanation = await explainRun(facts, { ai: { ...ai, budgetMs: 300 }, mask });

    const elapsed = Date.now() - started;
    expect(explanation?.source).toBe('rules');
    expect(explanation?.text).toContain('HTTP 401');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1_000);
    expect(model.requests).toHaveLength(1);
  });

  it('answers with the rules, without retrying, when the model fails with 500', async () => {
    model.behaviour = 'fail';
    const explanation = await explainRun(facts, { ai, mask });
    expect(explanation?.source).toBe('rules');
    expect(explanation?.text).toContain("secret 'shop_api'");
    expect(model.requests).toHaveLength(1);
  });

  it('answers with the rules when the model answers nothing', async () => {
    model.behaviour = 'empty';
    const explanation = await explainRun(facts, { ai, mask });
    expect(explanation?.source).toBe('rules');
  });

  it('takes the base URL with or without /v1', async () => {
    model.reply = 'Renew the token.';
    const other =
      protocol === 'openai' ? model.baseUrl.replace(/\/v1$/, '') : `${model.baseUrl}/v1`;
    const explanation = await explainRun(facts, { ai: { ...ai, baseUrl: other }, mask });
    expect(explanation?.source).toBe(`fake-${protocol}`);
  });

  it('explains a failed job with the model too', async () => {
    model.reply = 'The webhook token expired; renew it.';
    const explanation = await explainJobError(
      {
        pipeline: 'orders',
        processName: 'WebhookLoader',
        description: 'webhook answered HTTP 401',
        destinationType: 'webhook',
      },
      { ai, mask },
    );
    expect(explanation).toEqual({
      text: 'The webhook token expired; renew it.',
      source: `fake-${protocol}`,
    });
    expect(model.requests[0]?.body).toContain('webhook answered HTTP 401');
  });
});

describe('without a model', () => {
  it('answers with the rules, and masks them', async () => {
    const leaky: RunFacts = {
      ...facts,
      error: `${facts.error ?? ''}\nurl: https://shop.test/?key=${secretValue}`,
    };
    const explanation = await explainRun(leaky, { ai: { budgetMs: 15_000 }, mask });
    expect(explanation?.source).toBe('rules');
    expect(explanation?.text).not.toContain(secretValue);
  });

  it('counts a provider without a model name as no model', async () => {
    const explanation = await explainRun(facts, {
      ai: { provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', budgetMs: 15_000 },
      mask,
    });
    expect(explanation?.source).toBe('rules');
  });
});
