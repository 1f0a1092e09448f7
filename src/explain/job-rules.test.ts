import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebhookLoader } from '../destinations/webhook.js';
import { unfitReason } from '../pipelines/coerce.js';
import { pipelineSchema } from '../pipelines/pipeline-schema.js';
import { explainJobError } from './explain.js';
import { explainJobByRules } from './job-rules.js';

const options = { ai: { budgetMs: 15_000 }, mask: (text: string) => text };

/** What the real WebhookLoader reports when its receiver answers 401. */
async function webhookFailure(): Promise<string> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end('{"error":"invalid token"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const pipeline = pipelineSchema.parse({
      name: 'orders',
      destinations: [{ type: 'webhook', url: `http://127.0.0.1:${port}/ingest`, retries: 0 }],
    });
    const destination = pipeline.destinations[0];
    if (destination?.type !== 'webhook') throw new Error('expected a webhook destination');
    const loader = new WebhookLoader(destination, {
      pipeline,
      pipelineToken: 'token-1',
      dataDir: '.',
      primaryKey: [],
    });
    await loader.open();
    await loader.write({ records: [{ id: 1 }], fields: new Map() });
    const finished = await loader.finish();
    if (finished.ok) throw new Error('expected the webhook to refuse');
    return finished.message;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('explanations of failed pipeline jobs', () => {
  it('names the field and the fixes of a type mismatch', async () => {
    const facts = {
      pipeline: 'orders',
      processName: 'SqliteLoader',
      description: `record 12: ${unfitReason('amount', '12,50', 'number')} (column type of 'orders')`,
      destinationType: 'sqlite',
    };
    expect(explainJobByRules(facts).cause).toBe('type_mismatch');
    const text = (await explainJobError(facts, options))?.text;
    expect(text).toContain("field 'amount'");
    expect(text).toContain("pipeline 'orders'");
    expect(text).toContain('schema');
    expect(text).toContain("onFailure 'reject'");
  });

  it('names the key field of a record without a primary key value', async () => {
    const facts = {
      pipeline: 'orders',
      processName: 'SqliteLoader',
      description: 'record 3: primary key (order_id) is missing or null',
    };
    expect(explainJobByRules(facts).cause).toBe('missing_primary_key');
    const text = (await explainJobError(facts, options))?.text;
    expect(text).toContain("primary key 'order_id'");
    expect(text).toContain("'required' quality check");
  });

  it("reads SQLite's own NOT NULL message as a missing key", () => {
    const facts = {
      pipeline: 'orders',
      processName: 'SqliteLoader',
      description: 'NOT NULL constraint failed: orders.order_id',
    };
    expect(explainJobByRules(facts).text).toContain("primary key 'order_id'");
  });

  it("explains a webhook's 401 as the destination's credentials", async () => {
    const description = await webhookFailure();
    expect(description).toContain('HTTP 401');
    const facts = { pipeline: 'orders', processName: 'WebhookLoader', description };

    expect(explainJobByRules(facts).cause).toBe('webhook_auth');
    const explanation = await explainJobError(facts, options);
    expect(explanation?.source).toBe('rules');
    expect(explanation?.text).toMatch(/^The webhook at 127\.0\.0\.1:\d+ refused/);
    expect(explanation?.text).toContain('HTTP 401');
    expect(explanation?.text).toContain('credentials');
  });

  it('names the field a frozen schema does not have', () => {
    const facts = {
      pipeline: 'orders',
      processName: 'SqliteLoader',
      description: "field 'coupon' has no column in table 'orders' (schemaPolicy freeze)",
    };
    expect(explainJobByRules(facts).text).toContain("field 'coupon'");
    expect(explainJobByRules(facts).text).toContain("schemaPolicy to 'evolve'");
  });

  it('says what failed when no rule knows the error', () => {
    const facts = {
      pipeline: 'orders',
      processName: 'FileLoader',
      description: 'disk quota exceeded',
    };
    expect(explainJobByRules(facts).text).toBe(
      "The FileLoader stage of pipeline 'orders' failed: disk quota exceeded. Check the " +
        "pipeline's settings for that stage and the records the tap sent.",
    );
  });
});
