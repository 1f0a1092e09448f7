import { describe, expect, it } from 'vitest';
import type { RunFacts } from './facts.js';
import { runPrompt } from './prompt.js';

const facts: RunFacts = {
  tap: { name: 'orders', description: 'Orders', script: 'def fetch():\n    ...\n', secret: null },
  mode: 'test',
  params: {},
  outcome: 'success',
  failureKind: null,
  recordCount: 1,
  logs: 'UserWarning: slow page\n',
  error: null,
};

describe('the run prompt', () => {
  it('counts one record in the singular and others in the plural', () => {
    const keep = (text: string) => text;
    expect(runPrompt(facts, 'hint', keep).user).toContain('Outcome: succeeded with 1 record\n');
    expect(runPrompt({ ...facts, recordCount: 2 }, 'hint', keep).user).toContain(
      'Outcome: succeeded with 2 records\n',
    );
  });
});
