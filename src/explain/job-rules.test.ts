import { describe, expect, it } from 'vitest';
import { explainJobError } from './explain.js';
import { explainJobByRules } from './job-rules.js';

const options = { ai: { budgetMs: 15_000 }, mask: (text: string) => text };

describe('explanations of failed pipeline jobs', () => {
  it('names the field and the fixes of a type mismatch', async () => {
    const facts = {
      pipeline: 'orders',
      processName: 'SqliteLoader',
      description: 'record 12: field \'amount\' expected number, got "12,50" (string)',
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
      description: "record 3 has no value for primary key field 'order_id'; a merge needs it",
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
    const facts = {
      pipeline: 'orders',
      processName: 'WebhookLoader',
      description: 'POST https://hooks.example.test/ingest answered 401 Unauthorized (status 401)',
      destinationType: 'webhook',
    };
    expect(explainJobByRules(facts).cause).toBe('webhook_auth');
    const explanation = await explainJobError(facts, options);
    expect(explanation?.source).toBe('rules');
    expect(explanation?.text).toContain('The webhook at hooks.example.test refused');
    expect(explanation?.text).toContain('HTTP 401');
    expect(explanation?.text).toContain('credentials');
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
