/**
 * Explains failed, empty and noisy runs, and failed pipeline jobs, in one short paragraph. The
 * built-in rules always have an answer; a configured model may give a better one within the
 * budget. Everything sent to the model and everything returned goes through `mask`.
 */
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { warningLines } from './clues.js';
import type { Explanation, JobErrorFacts, RunFacts } from './facts.js';
import { explainJobByRules } from './job-rules.js';
import { askModel, modelSettings } from './model.js';
import { jobPrompt, runPrompt, type ModelPrompt } from './prompt.js';
import { explainRunByRules, type RuleAnswer } from './run-rules.js';

export type { Explanation, JobErrorFacts, RunFacts } from './facts.js';

export interface ExplainOptions {
  ai: Config['ai'];
  /** Replaces secret values with `****`. */
  mask: (text: string) => string;
  logger?: Logger;
}

/** A failed run, a run with zero records, or logs with warning, error or traceback lines. */
export function needsExplanation(facts: RunFacts): boolean {
  return (
    facts.outcome === 'failure' || facts.recordCount === 0 || warningLines(facts.logs).length > 0
  );
}

async function answer(
  rules: RuleAnswer,
  prompt: (hint: string) => ModelPrompt,
  options: ExplainOptions,
): Promise<Explanation> {
  const settings = modelSettings(options.ai);
  if (settings) {
    const text = await askModel(settings, prompt(rules.text), options.ai.budgetMs, options.logger);
    if (text) return { text: options.mask(text), source: settings.model };
  }
  return { text: options.mask(rules.text), source: 'rules' };
}

/** The explanation of a run, or null when it needs none (a clean run with records). */
export async function explainRun(
  facts: RunFacts,
  options: ExplainOptions,
): Promise<Explanation | null> {
  if (!needsExplanation(facts)) return null;
  const rules = explainRunByRules(facts);
  if (!rules) return null;
  return answer(rules, (hint) => runPrompt(facts, hint, options.mask), options);
}

/** The explanation of a failed pipeline job's error, for the rollup's `lastError`. */
export async function explainJobError(
  facts: JobErrorFacts,
  options: ExplainOptions,
): Promise<Explanation | null> {
  if (!facts.description.trim()) return null;
  const rules = explainJobByRules(facts);
  return answer(rules, (hint) => jobPrompt(facts, hint, options.mask), options);
}
