import { stringifyRecords } from '../records/record-json.js';
import { excerpt, fitsType, typeWithArticle } from './coerce.js';
import type { QualityRule } from './pipeline-schema.js';
import { patternProgram } from './quality-pattern.js';

/** What a record's checks decided. `warn` rules never stop a record; the others do. */
export type QualityVerdict =
  { action: 'pass' } | { action: 'reject'; reason: string } | { action: 'fail'; reason: string };

const pass: QualityVerdict = { action: 'pass' };

/** How many warn-rule hits are kept as examples for the warning event. */
const warnExamples = 5;

/**
 * The `quality` stage for one job. Every check but `required` skips null and missing values,
 * as SQL constraints do. `unique` remembers each value it has seen in the job, so its memory
 * grows with the number of distinct values (about 60 bytes each): a known cost, paid only by
 * pipelines that ask for it.
 */
export class QualityStage {
  private readonly checks: {
    rule: QualityRule;
    label: string;
    test: (v: unknown) => string | null;
  }[];
  warned = 0;
  readonly warnReasons: string[] = [];

  constructor(rules: readonly QualityRule[]) {
    this.checks = rules.map((rule, index) => ({
      rule,
      label: `quality[${index}] (${rule.check} on '${rule.field}')`,
      test: compile(rule),
    }));
  }

  get active(): boolean {
    return this.checks.length > 0;
  }

  check(record: Record<string, unknown>, line: number): QualityVerdict {
    for (const { rule, label, test } of this.checks) {
      const value = record[rule.field];
      const problem = test(value);
      if (problem === null) continue;

      const reason = `record ${line}: ${label} failed: ${problem}`;
      if (rule.onFailure === 'warn') {
        this.warned += 1;
        if (this.warnReasons.length < warnExamples) this.warnReasons.push(reason);
        continue;
      }
      const withSample = `${reason}; sample value: ${excerpt(value)}`;
      return rule.onFailure === 'fail'
        ? { action: 'fail', reason: withSample }
        : { action: 'reject', reason };
    }
    return pass;
  }
}

/** A check: null when the value passes, else what is wrong with it. */
function compile(rule: QualityRule): (value: unknown) => string | null {
  const absent = (value: unknown) => value === null || value === undefined;
  switch (rule.check) {
    case 'required':
      return (value) => (absent(value) ? 'value missing' : null);
    case 'type':
      return (value) =>
        absent(value) || fitsType(value, rule.type)
          ? null
          : `${excerpt(value)} is not ${typeWithArticle(rule.type)}`;
    case 'pattern': {
      const pattern = patternProgram(rule);
      return (value) =>
        absent(value) || pattern.test(asText(value))
          ? null
          : `${excerpt(value)} does not match /${rule.pattern}/`;
    }
    case 'min':
    case 'max': {
      const sign = rule.check === 'min' ? 1 : -1;
      return (value) => {
        if (absent(value)) return null;
        const order = compare(value, rule.value) * sign;
        if (order >= 0) return null;
        if (Number.isNaN(order)) return `${excerpt(value)} is not a number`;
        return `${excerpt(value)} is ${rule.check === 'min' ? 'below' : 'above'} ${rule.value}`;
      };
    }
    case 'oneOf': {
      const allowed = new Set<unknown>(rule.values);
      return (value) =>
        absent(value) || allowed.has(typeof value === 'bigint' ? Number(value) : value)
          ? null
          : `${excerpt(value)} is not one of ${excerpt(rule.values)}`;
    }
    case 'unique': {
      const seen = new Set<string>();
      return (value) => {
        if (absent(value)) return null;
        const key = uniqueKey(value);
        if (seen.has(key)) return `${excerpt(value)} appeared earlier in the job`;
        seen.add(key);
        return null;
      };
    }
  }
}

function asText(value: unknown): string {
  return typeof value === 'object' ? stringifyRecords(value) : String(value);
}

/** Numbers compare with numbers (numeric text included); anything else compares as text. */
function compare(value: unknown, bound: number | string): number {
  if (typeof bound === 'number') {
    const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof number !== 'number' && typeof number !== 'bigint') return Number.NaN;
    return Number(number) - bound;
  }
  const text = asText(value);
  return text < bound ? -1 : text > bound ? 1 : 0;
}

/** 5, 5n and 5.0 are one value; "5" stays text so that it does not equal the number. */
function uniqueKey(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return `n${value}`;
    case 'string':
      return `s${value}`;
    default:
      return `j${asText(value)}`;
  }
}
