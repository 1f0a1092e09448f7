import { RE2JS, RE2JSException } from 're2js';

/**
 * The `pattern` quality check runs on values that come from outside sources, on the server's
 * only thread. A backtracking engine such as RegExp can take exponential time on one crafted
 * value (`(a+)+$` against 27 a's and a `!` froze every request for 10 s, and each further `a`
 * doubles that), so patterns run on RE2, whose matching time grows linearly with the value. RE2 cannot express
 * backreferences or lookarounds; pipelines that use them are refused when they are saved.
 */

interface PatternRule {
  readonly pattern: string;
}

/** Each rule's program, compiled once when its pipeline was parsed (pipeline-schema.ts). */
const programs = new WeakMap<PatternRule, RE2JS>();

/** Compiles the rule's pattern and keeps it for the quality stage; null, or why RE2 refuses it. */
export function compilePattern(rule: PatternRule): string | null {
  try {
    programs.set(rule, RE2JS.compile(rule.pattern));
    return null;
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    const reason = error.message.replace(/^error parsing regexp: /, '');
    return (
      `not RE2 syntax (${reason}); patterns must be RE2 regular expressions, which match in ` +
      'time linear in the value, so that one long value cannot stall the server: RE2 has no ' +
      'backreferences (\\1) or lookarounds ((?=, (?!, (?<=, (?<!), and writes \\u00e9 as \\x{e9}'
    );
  }
}

/** The rule's RE2 program; a rule that did not come through a parse is compiled here. */
export function patternProgram(rule: PatternRule): RE2JS {
  return programs.get(rule) ?? RE2JS.compile(rule.pattern);
}
