import { describe, expect, it } from 'vitest';
import { explainRun } from './explain.js';
import type { RunFacts } from './facts.js';

const megabyte = 1_000_000;

function facts(logs: string, error: string | null): RunFacts {
  return {
    tap: { name: 'noisy', description: '', script: 'def fetch():\n    ...\n', secret: null },
    mode: 'test',
    params: {},
    outcome: error ? 'failure' : 'success',
    failureKind: error ? 'exception' : null,
    recordCount: 0,
    logs,
    error,
  };
}

// The explainer reads logs on the server's only thread; a pattern that backtracks on a long
// line would freeze every request (a 10 MB print once took minutes). These must stay linear.
describe('explaining runs whose logs hold megabyte-long lines', () => {
  const shapes: [string, string, string | null][] = [
    ['letters', 'y'.repeat(megabyte), null],
    ['digits', '7'.repeat(megabyte), null],
    ['spaces', `${' '.repeat(megabyte)}x`, null],
    ['an error message', '', `ValueError: ${'y'.repeat(megabyte)}`],
    [
      'url-like text',
      `GET http://${'a.'.repeat(megabyte / 2)}`,
      `HTTPError: ${'a/'.repeat(megabyte / 2)}`,
    ],
    ['punctuation', 'abc123_-./:'.repeat(megabyte / 11), `KeyError: ${"'".repeat(megabyte / 10)}`],
    ['an exit message', '', `SystemExit: the script called exit('${'x'.repeat(megabyte)}')`],
    ['repeated fetch() errors', '', 'fetch() missing 1 required '.repeat(megabyte / 27)],
    ['repeated exit calls', '', `SystemExit: ${'exit('.repeat(megabyte / 5)}`],
  ];
  for (const [label, logs, error] of shapes) {
    it(`answers at once for ${label}`, async () => {
      const started = performance.now();
      const explanation = await explainRun(facts(logs, error), {
        ai: { budgetMs: 15_000 },
        mask: (text) => text,
      });
      expect(explanation?.source).toBe('rules');
      // Generous: a quadratic pattern takes minutes here, a linear one milliseconds.
      expect(performance.now() - started).toBeLessThan(5_000);
    });
  }
});
