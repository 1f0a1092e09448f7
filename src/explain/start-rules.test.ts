import { describe, expect, it } from 'vitest';
import { runFacts, rulesText } from './fixtures/run-facts.js';
import { explainRunByRules } from './run-rules.js';

// The run service, not the runner, reports what kept a script from starting, and its own faults.
describe('runs tapline did not start, or could not finish', () => {
  const secretScript =
    'import os\n\ndef fetch():\n    token = os.environ["SHOP_TOKEN"]\n' +
    '    since = os.environ.get("TAP_PARAM_since")\n    return []\n';

  it('names a missing secret, the fields the script reads, and how to create it', async () => {
    const facts = runFacts({
      tap: { name: 'orders', description: '', script: secretScript, secret: 'shop_api' },
      failureKind: 'not_started',
      error:
        "secret 'shop_api' named by tap 'orders' does not exist; create it again or change the tap",
    });
    expect(explainRunByRules(facts)?.cause).toBe('missing_secret');
    const text = await rulesText(facts);
    expect(text).toContain('tapline did not start the script');
    expect(text).toContain("secret 'shop_api', which does not exist");
    expect(text).toContain('with the fields the script reads (SHOP_TOKEN)');
    expect(text).toContain('POST /api/v1/secrets');
    expect(text).toContain('tapline secret set shop_api FIELD=value');
    expect(text).toContain("change the tap's secret");
  });

  it('still names a missing secret reported without a failure kind', async () => {
    const facts = runFacts({
      failureKind: null,
      error: "secret 'shop_api' named by tap 'orders' does not exist",
    });
    expect(explainRunByRules(facts)?.cause).toBe('missing_secret');
    expect(await rulesText(facts)).not.toContain('did not start');
  });

  it("does not take a script's own missing secret for tapline's", () => {
    const facts = runFacts({
      failureKind: 'exception',
      error: "KeyError: secret 'api_key' not found in the vault",
    });
    expect(explainRunByRules(facts)?.cause).not.toBe('missing_secret');
  });

  it('names a missing target pipeline, not a crash', async () => {
    const facts = runFacts({
      mode: 'run',
      failureKind: 'not_started',
      error:
        "target pipeline 'm18' of tap 'xtap' no longer exists; create it again or change the tap",
    });
    expect(explainRunByRules(facts)?.cause).toBe('missing_pipeline');
    const text = await rulesText(facts);
    expect(text).toContain("target pipeline 'm18' no longer exists");
    expect(text).toContain("Create the pipeline 'm18' again");
    expect(text).toContain("change the tap's targetPipeline");
    expect(text).not.toMatch(/crash|signal|memory/);
  });

  it('quotes any other reason tapline gives for not starting', async () => {
    const facts = runFacts({ failureKind: 'not_started', error: 'the tap is disabled' });
    expect(await rulesText(facts)).toContain(
      'tapline did not start the script: the tap is disabled',
    );
  });

  it("says tapline's own failure is not the script's, and where to look", async () => {
    const facts = runFacts({
      failureKind: 'internal',
      error: 'tapline could not complete the run; the server log has details',
      // Even when the logs hold something a script rule would pick up.
      logs: 'urllib.error.HTTPError: HTTP Error 500: Internal Server Error\n',
    });
    expect(explainRunByRules(facts)?.cause).toBe('internal');
    const text = await rulesText(facts);
    expect(text).toContain('tapline itself failed');
    expect(text).toContain('the script is not at fault');
    expect(text).toContain('server log');
  });
});
