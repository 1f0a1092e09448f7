import { describe, expect, it } from 'vitest';
import { timeoutMessage } from '../runner/failure-messages.js';
import { runFacts, rulesText } from './fixtures/run-facts.js';
import { size } from './limit-rules.js';
import { explainRunByRules } from './run-rules.js';

describe('limits named only by their message', () => {
  it('explains a printed line over runner.maxLogLineBytes', async () => {
    // The runner's per-line limit ends the run as output_limit with a message naming the setting.
    const facts = runFacts({
      failureKind: 'output_limit',
      error:
        'the script printed a single line longer than 1 MiB (1048576 bytes) and was stopped; ' +
        'print less per line, or raise runner.maxLogLineBytes in tapline.yaml',
    });
    expect(explainRunByRules(facts)?.cause).toBe('log_line_limit');
    const text = await rulesText(facts);
    expect(text).toContain('a single line longer than 1 MiB');
    expect(text).toContain('runner.maxLogLineBytes');
    expect(text).toContain('whole response body');
    expect(text).not.toContain('runner.maxOutputBytes');
  });

  it("takes the tap's own timeout from the facts when the message names no number", async () => {
    const facts = runFacts({
      tap: { name: 'orders', description: '', script: '', secret: null, timeoutSeconds: 45 },
      failureKind: 'timeout',
      error: 'the script was stopped',
    });
    expect(await rulesText(facts)).toContain("the tap's own timeout of 45 s");
  });

  it('reads the limit a mode default gives', async () => {
    const facts = runFacts({ failureKind: 'timeout', error: timeoutMessage(300, 'test') });
    const text = await rulesText(facts);
    expect(text).toContain("tapline's test-mode timeout of 300 s");
    expect(text).not.toContain("the tap's own timeout");
  });
});

describe('sizes in explanations', () => {
  it('reads as a person would write them', () => {
    expect(size(1)).toBe('1 byte');
    expect(size(512)).toBe('512 bytes');
    expect(size(1536)).toBe('1.5 KiB');
    expect(size(20 * 1024 * 1024)).toBe('20 MiB');
    expect(size(10 * 1024 * 1024 * 1024)).toBe('10 GiB');
  });
});
