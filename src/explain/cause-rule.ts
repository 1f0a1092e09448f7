/**
 * The shape of one cause rule and the matchers rules are built from. The rule tables
 * (`cause-rules.ts`, `limit-rules.ts`) share them; `run-rules.ts` decides which text to search.
 */
import { dateWindow, scriptFrame } from './clues.js';
import type { RunFacts } from './facts.js';

export interface RuleAnswer {
  /** A stable name for the cause, for logs and tests: `missing_module`, `http_401`. */
  cause: string;
  text: string;
}

/** What a rule looks at: the facts, and the text to search (error and logs, or logs alone). */
export interface Scene {
  facts: RunFacts;
  text: string;
}

export interface CauseRule {
  cause: string;
  /** Captures (regex groups) when the rule applies, else null. */
  match: (scene: Scene) => string[] | null;
  say: (found: string[], scene: Scene) => string;
}

export type Matcher = (scene: Scene) => string[] | null;

/** Matches the scene's text; the captures are the regex's groups. */
export const regex =
  (pattern: RegExp): Matcher =>
  ({ text }) => {
    const found = pattern.exec(text);
    return found ? found.map((group) => group ?? '') : null;
  };

/** Matches a run that failed with this kind; the one capture is the runner's error. */
export const kind =
  (failureKind: RunFacts['failureKind']): Matcher =>
  ({ facts }) =>
    facts.failureKind === failureKind ? [facts.error ?? ''] : null;

/** The first matcher that matches. */
export const either =
  (...tests: Matcher[]): Matcher =>
  (scene) => {
    for (const test of tests) {
      const found = test(scene);
      if (found) return found;
    }
    return null;
  };

/** Matches when both match; the captures are the second's. */
export const both =
  (first: Matcher, second: Matcher): Matcher =>
  (scene) =>
    first(scene) ? second(scene) : null;

/** " at tap.py line N, in f()" for the innermost frame of the script, or nothing. */
export function at({ text }: Scene): string {
  const frame = scriptFrame(text);
  return frame ? ` at tap.py line ${frame.line}, in ${frame.functionName}()` : '';
}

/** The params that would narrow a run, for "a smaller window through params (…)". */
export function windowHint(params: Record<string, unknown>): string {
  const keys = dateWindow(params).map(([key]) => key);
  return keys.length > 0 ? ` (${keys.join(', ')})` : ' (e.g. since/until)';
}
