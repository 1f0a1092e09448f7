/**
 * The built-in explanations of a failed pipeline job: the loader's or stage's error in the
 * rollup's `lastError`, turned into the cause and the next step. First match wins.
 */
import { httpFailure, likelyHost, quote } from './clues.js';
import type { JobErrorFacts } from './facts.js';
import type { RuleAnswer } from './cause-rule.js';

interface JobRule {
  cause: string;
  match: (facts: JobErrorFacts) => string[] | null;
  say: (found: string[], facts: JobErrorFacts) => string;
}

const regex =
  (pattern: RegExp) =>
  ({ description }: JobErrorFacts): string[] | null => {
    const found = pattern.exec(description);
    return found ? found.map((group) => group ?? '') : null;
  };

function isWebhook(facts: JobErrorFacts): boolean {
  return facts.destinationType === 'webhook' || facts.processName === 'WebhookLoader';
}

const webhookStatus =
  (accept: (status: number) => boolean) =>
  (facts: JobErrorFacts): string[] | null => {
    const found = isWebhook(facts) ? httpFailure(facts.description) : null;
    return found && accept(found.status) ? [String(found.status)] : null;
  };

function endpoint(facts: JobErrorFacts): string {
  const host = likelyHost({ error: facts.description, logs: '', params: '', script: '' });
  return host ? `the webhook at ${host}` : 'the webhook endpoint';
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// The field a loader's message names: "field 'x'", "column \"x\"", "NOT NULL ... table.x".
function fieldIn(description: string): string | null {
  const found =
    /primary key \(([^)]+)\)/i.exec(description) ??
    /(?:field|column|key)\s+['"`]([^'"`]+)['"`]/i.exec(description) ??
    /constraint failed: [\w]+\.(\w+)/i.exec(description) ??
    /['"`]([^'"`]+)['"`]/.exec(description);
  return found?.[1] ?? null;
}

function named(description: string, fallback: string): string {
  const field = fieldIn(description);
  return field ? `'${field}'` : fallback;
}

export const jobRules: JobRule[] = [
  {
    cause: 'webhook_auth',
    match: webhookStatus((status) => status === 401 || status === 403),
    say: ([status], facts) =>
      `${capital(endpoint(facts))} refused tapline's request (HTTP ${status}) in pipeline ` +
      `'${facts.pipeline}': the destination's credentials are missing, wrong or expired. Check ` +
      `the token or header configured on the webhook destination and that the receiver ` +
      `accepts it.`,
  },
  {
    cause: 'webhook_status',
    match: webhookStatus(() => true),
    say: ([status], facts) => {
      const next =
        Number(status) >= 500
          ? 'the receiver is failing; retry later, or make the batches smaller if it chokes on them'
          : Number(status) === 404
            ? "check the destination's URL"
            : 'the receiver rejected the batch; its response body says why';
      return (
        `${capital(endpoint(facts))} answered HTTP ${status} in pipeline ` +
        `'${facts.pipeline}': ${next}.`
      );
    },
  },
  {
    cause: 'webhook_timeout',
    match: (facts) => (isWebhook(facts) ? regex(/no answer within (\d+) ms/)(facts) : null),
    say: ([, ms], facts) =>
      `${capital(endpoint(facts))} gave no answer within ${ms} ms in pipeline ` +
      `'${facts.pipeline}'. The receiver is slow or stuck: check it, or raise the destination's ` +
      `timeoutMs or lower its batchSize.`,
  },
  {
    cause: 'connection',
    match: regex(
      /(ECONNREFUSED|Connection refused|ENOTFOUND|EAI_AGAIN|getaddrinfo|ETIMEDOUT|ECONNRESET|fetch failed)/,
    ),
    say: ([what], facts) =>
      `${isWebhook(facts) ? capital(endpoint(facts)) : 'The destination'} could not be reached ` +
      `(${what}) by the ${facts.processName} stage of pipeline '${facts.pipeline}'. Check its ` +
      `host and port, and that it is running and reachable from the machine running tapline.`,
  },
  {
    cause: 'missing_primary_key',
    match: regex(
      new RegExp(
        [
          'primary ?key[^\\n]*(?:missing|null|empty|no value|absent|required)',
          '(?:missing|null|empty|no value)[^\\n]*primary ?key',
          'NOT NULL constraint failed',
        ].join('|'),
        'i',
      ),
    ),
    say: (_found, facts) =>
      `A record had no value for the primary key ${named(facts.description, 'field')} of ` +
      `pipeline '${facts.pipeline}', so it cannot be merged. Make the tap emit that field on ` +
      `every record, add a 'required' quality check on it with onFailure 'reject' to drop such ` +
      `records, or change the pipeline's primaryKey.`,
  },
  {
    cause: 'type_mismatch',
    match: regex(
      new RegExp(
        [
          'type mismatch',
          'datatype mismatch',
          'expected (?:an? )?(?:integer|number|decimal|boolean|date|timestamp|string|json)',
          'cannot (?:convert|cast|coerce)',
          'invalid input syntax for type',
          'not an? (?:valid )?(?:integer|number|decimal|boolean|date|timestamp)',
        ].join('|'),
        'i',
      ),
    ),
    say: ([what], facts) =>
      `A value did not fit its column's type in pipeline '${facts.pipeline}' ` +
      `(${quote(what ?? '', 60)}, field ${named(facts.description, 'unknown')}). Fix the value ` +
      `in the tap, convert it with a transform, or change the field's type in the pipeline's ` +
      `schema; a 'type' quality check with onFailure 'reject' drops such records instead of ` +
      `failing the job.`,
  },
  {
    cause: 'key_repeats',
    match: regex(/cannot merge into table '([^']+)' on \(([^)]+)\)/),
    say: ([, table, key], facts) =>
      `Table '${table}' already holds rows that repeat the key (${key}) of pipeline ` +
      `'${facts.pipeline}', so it cannot be merged on it. Remove the duplicate rows from the ` +
      `table, or load once with writeMode 'replace'.`,
  },
  {
    cause: 'schema_frozen',
    match: regex(/(freeze|frozen|unknown column|no such column|has no column named)/i),
    say: (_found, facts) =>
      `A record has a field ${named(facts.description, '')} that the table of pipeline ` +
      `'${facts.pipeline}' does not have, and its schema does not change on its own. Add the ` +
      `field to the schema, set schemaPolicy to 'evolve', or drop the field with a transform.`,
  },
  {
    cause: 'quality_failed',
    match: (facts) => (facts.processName === 'DataQuality' ? [facts.description] : null),
    say: ([description], facts) =>
      `A quality rule of pipeline '${facts.pipeline}' with onFailure 'fail' stopped the job: ` +
      `${quote(description ?? '', 140)}. Fix the records at the tap, or set that rule's ` +
      `onFailure to 'reject' or 'warn' if such records may pass.`,
  },
  {
    cause: 'database_locked',
    match: regex(/(database is locked|SQLITE_BUSY|is locked by another process)/),
    say: (_found, facts) =>
      `The warehouse was locked by another writer while pipeline '${facts.pipeline}' loaded. ` +
      `Retry the run; if it repeats, check for another process holding the database file.`,
  },
];

/** The rules' explanation of a failed job; always an answer, generic at worst. */
export function explainJobByRules(facts: JobErrorFacts): RuleAnswer {
  for (const rule of jobRules) {
    const found = rule.match(facts);
    if (found) return { cause: rule.cause, text: rule.say(found, facts) };
  }
  return {
    cause: 'job_failed',
    text:
      `The ${facts.processName} stage of pipeline '${facts.pipeline}' failed: ` +
      `${quote(facts.description, 160)}. Check the pipeline's settings for that stage and the ` +
      `records the tap sent.`,
  };
}
