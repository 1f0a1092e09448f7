import path from 'node:path';
import { z } from 'zod';
import { TaplineError } from '../errors/catalogue.js';
import {
  columnNameFor,
  isReservedTableName,
  tableNamePattern,
} from '../destinations/identifiers.js';
import { destinationPathProblem } from './destination-paths.js';
import { compilePattern } from './quality-pattern.js';
import { dataDirLayout } from '../config/data-dir-layout.js';

/**
 * The pipeline JSON of DESIGN section 5. Field names in `schema`, `primaryKey`, `quality` and
 * `transform` are the keys as the tap produces them; `transform.rename` then carries through
 * to the columns, so a schema field `temp_max` renamed to `max_temp_c` lands as a
 * `max_temp_c` column of the declared type.
 */

export const fieldTypes = [
  'string',
  'integer',
  'number',
  'decimal',
  'boolean',
  'date',
  'timestamp',
  'json',
] as const;
export type FieldType = (typeof fieldTypes)[number];

function isHttpUrl(text: string): boolean {
  return URL.canParse(text) && /^https?:$/.test(new URL(text).protocol);
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

const fieldType = z.enum(fieldTypes, {
  error: `unknown type; expected one of ${fieldTypes.join(', ')}`,
});

const fieldName = z.string().min(1, 'a field name cannot be empty');

const schemaField = z.strictObject({
  name: fieldName.describe('The key as the tap produces it'),
  type: fieldType.describe(
    'string, integer (64-bit, exact), number (double), decimal (exact, stored as text), ' +
      'boolean, date (YYYY-MM-DD), timestamp (ISO 8601), json (object, array or any value)',
  ),
});

const onFailure = z
  .enum(['reject', 'warn', 'fail'])
  .default('reject')
  .describe('reject drops the record and counts it; warn keeps it; fail fails the job');

const ruleBase = {
  field: fieldName.describe('The key the rule checks, as the tap produces it'),
  onFailure,
};

const bound = z
  .union([z.number(), z.string()])
  .describe('A number compares numerically; a string compares as text (ISO dates sort right)');

const qualityRule = z.discriminatedUnion(
  'check',
  [
    z
      .strictObject({ ...ruleBase, check: z.literal('required') })
      .describe('The field is present and not null'),
    z
      .strictObject({ ...ruleBase, check: z.literal('type'), type: fieldType })
      .describe('The value converts to the type without loss (the load rule)'),
    z
      .strictObject({
        ...ruleBase,
        check: z.literal('pattern'),
        pattern: z
          .string()
          .describe(
            'An RE2 regular expression the text must match somewhere (anchor it with ^ and $); ' +
              'RE2 matches in linear time and has no backreferences or lookarounds',
          ),
      })
      .describe('The value, as text, matches the pattern'),
    z
      .strictObject({ ...ruleBase, check: z.literal('min'), value: bound })
      .describe('The value is at least `value`'),
    z
      .strictObject({ ...ruleBase, check: z.literal('max'), value: bound })
      .describe('The value is at most `value`'),
    z
      .strictObject({
        ...ruleBase,
        check: z.literal('oneOf'),
        values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
      })
      .describe('The value is one of `values`'),
    z
      .strictObject({ ...ruleBase, check: z.literal('unique') })
      .describe('No two records of one job share the value'),
  ],
  { error: 'unknown check; expected required, type, pattern, min, max, oneOf or unique' },
);

const transform = z
  .strictObject({
    rename: z.record(fieldName, fieldName).default({}).describe('Keys to rename: {"old": "new"}'),
    drop: z.array(fieldName).default([]).describe('Keys to remove'),
    trimStrings: z.boolean().default(false).describe('Trim spaces around every string value'),
    emptyStringsAsNull: z
      .boolean()
      .default(false)
      .describe('Turn "" into null (after trimming), as CSV sources usually mean it'),
  })
  .describe('Applied after quality, in this order: trimStrings, emptyStringsAsNull, drop, rename');

function destinationPath(kind: 'sqlite' | 'file') {
  return z
    .string()
    .min(1)
    .superRefine((written, ctx) => {
      const problem = destinationPathProblem(written, kind);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    });
}

const sqliteDestination = z
  .strictObject({
    type: z.literal('sqlite'),
    table: z
      .string()
      .regex(tableNamePattern, 'a table name is a letter or _ then up to 62 of [A-Za-z0-9_]')
      .refine(
        (name) => !isReservedTableName(name),
        'names starting sqlite_ or _tapline are reserved',
      )
      .describe('The table to load into, created when missing'),
    writeMode: z
      .enum(['append', 'replace', 'merge'])
      .default('append')
      .describe('append adds rows; replace swaps the contents atomically; merge upserts'),
    path: destinationPath('sqlite')
      .optional()
      .describe(
        'The SQLite file; default <dataDir>/warehouse.db; relative to dataDir, or absolute; ' +
          "no '..', and not tapline's own files (tapline.db, secret.key, staging/)",
      ),
  })
  .describe('The embedded SQLite warehouse');

const fileDestination = z
  .strictObject({
    type: z.literal('file'),
    path: destinationPath('file').describe(
      "The folder to write into; relative to dataDir, or absolute; no '..', not staging/",
    ),
    format: z.enum(['jsonl', 'csv']).default('jsonl').describe('JSON Lines or CSV'),
    writeMode: z
      .enum(['append', 'replace'], {
        error: 'file destinations support append (a file per job) or replace',
      })
      .default('append')
      .describe(
        'append writes one file per job, named by its pipelineToken; replace keeps one file ' +
          'named after the pipeline and swaps it atomically at each job',
      ),
  })
  .describe('Files in a folder, written to a temporary name then renamed');

const webhookDestination = z
  .strictObject({
    type: z.literal('webhook'),
    url: z
      .string()
      .refine(isHttpUrl, 'expected an http:// or https:// URL')
      .describe('Receives POST {"pipeline", "pipelineToken", "batch", "records": [...]}'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra request headers, e.g. Authorization'),
    batchSize: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(500)
      .describe('The most records one POST carries'),
    maxBatchBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(4 * 1024 ** 2)
      .describe(
        'The most bytes one POST body carries (default 4 MiB), whichever of this and batchSize ' +
          'comes first; a single record larger than this is sent alone',
      ),
    timeoutMs: z.number().int().min(1).default(30_000).describe('Per request'),
    retries: z.number().int().min(0).max(20).default(3).describe('On network errors, 5xx, 429'),
    backoffMs: z
      .number()
      .int()
      .min(0)
      .default(500)
      .describe('The first retry waits this long; each further one twice as long'),
  })
  .describe('POST batches to a URL; at-least-once, with an Idempotency-Key header per batch');

const destination = z.discriminatedUnion(
  'type',
  [sqliteDestination, fileDestination, webhookDestination],
  { error: 'unknown destination type; expected sqlite, file or webhook' },
);

const pipelineObject = z.strictObject({
  name: z
    .string()
    .regex(namePattern, 'a name is a letter or digit then up to 127 of [A-Za-z0-9_.-]')
    .describe('Unique pipeline name'),
  description: z.string().default('').describe('What the pipeline lands'),
  primaryKey: z
    .array(fieldName)
    .optional()
    .describe('The fields that identify a record; required by writeMode merge'),
  schemaPolicy: z
    .enum(['evolve', 'freeze'])
    .default('evolve')
    .describe('evolve adds columns for new keys; freeze rejects records that do not fit'),
  schema: z
    .array(schemaField)
    .optional()
    .describe('Declared fields; without it the first load infers them from the records'),
  quality: z.array(qualityRule).default([]).describe('Checks run on every record, in order'),
  transform: transform.optional(),
  destinations: z.array(destination).min(1, 'at least one destination is needed'),
});

type PipelineShape = z.infer<typeof pipelineObject>;

/** The checks that look across fields; each issue's path points at the field to fix. */
function checkPipeline(pipeline: PipelineShape, ctx: z.RefinementCtx): void {
  const declared = pipeline.schema;
  const seen = new Map<string, number>();
  declared?.forEach((field, index) => {
    const first = seen.get(field.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema', index, 'name'],
        message: `duplicate field '${field.name}' (also schema[${first}])`,
      });
    } else {
      seen.set(field.name, index);
    }
  });

  const dropped = new Set(pipeline.transform?.drop ?? []);
  const keys = pipeline.primaryKey;
  keys?.forEach((key, index) => {
    if (keys.indexOf(key) !== index) {
      ctx.addIssue({ code: 'custom', path: ['primaryKey', index], message: `'${key}' repeated` });
    }
    if (declared && !seen.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['primaryKey', index],
        message: `'${key}' is not a field of the schema`,
      });
    }
    if (dropped.has(key)) {
      ctx.addIssue({
        code: 'custom',
        path: ['primaryKey', index],
        message: `'${key}' is dropped by the transform`,
      });
    }
  });

  // Compiled here, on the rule objects the parse returns, so a job's quality stage reuses them.
  pipeline.quality.forEach((rule, index) => {
    if (rule.check !== 'pattern') return;
    const problem = compilePattern(rule);
    if (problem !== null) {
      ctx.addIssue({ code: 'custom', path: ['quality', index, 'pattern'], message: problem });
    }
  });

  const targets = new Map<string, string>();
  for (const [from, to] of Object.entries(pipeline.transform?.rename ?? {})) {
    const other = targets.get(to);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['transform', 'rename', from],
        message: `'${from}' and '${other}' are both renamed to '${to}'`,
      });
    }
    targets.set(to, from);
  }

  // One job holds one write transaction per warehouse file from its first batch to its commit;
  // a second sqlite destination in the same file would wait on the first for ever.
  const warehouses = new Map<string, number>();
  pipeline.destinations.forEach((target, index) => {
    if (target.type === 'sqlite') {
      const file = path.normalize(target.path ?? dataDirLayout.warehouse);
      const first = warehouses.get(file);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['destinations', index, 'path'],
          message:
            `destinations[${first}] already loads ${file}; one pipeline loads one table per ` +
            'warehouse file: set path to another file',
        });
      }
      warehouses.set(file, index);
    }
    if (target.type === 'sqlite' && target.writeMode === 'merge' && !keys?.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['destinations', index, 'writeMode'],
        message: 'merge needs a primaryKey: set primaryKey to the field(s) that identify a record',
      });
    }
  });

  if (declared && pipeline.destinations.some((target) => target.type === 'sqlite')) {
    checkColumnCollisions(declared, pipeline.transform?.rename ?? {}, ctx);
  }
}

/** Two declared fields that would share a warehouse column, refused before any load. */
function checkColumnCollisions(
  declared: { name: string }[],
  rename: Record<string, string>,
  ctx: z.RefinementCtx,
): void {
  const owners = new Map<string, string>();
  declared.forEach((field, index) => {
    const key = rename[field.name] ?? field.name;
    const column = columnNameFor(key);
    const owner = owners.get(column);
    if (owner !== undefined && owner !== key) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema', index, 'name'],
        message: `'${owner}' and '${key}' both become column '${column}'`,
      });
    }
    owners.set(column, key);
  });
}

export const pipelineSchema = pipelineObject
  .superRefine(checkPipeline)
  .describe('A named recipe for landing records: key, schema, quality, transform, destinations');

export type Pipeline = z.infer<typeof pipelineSchema>;
export type PipelineInput = z.input<typeof pipelineSchema>;
export type Destination = Pipeline['destinations'][number];
export type QualityRule = Pipeline['quality'][number];
export type Transform = NonNullable<Pipeline['transform']>;
export type SchemaField = NonNullable<Pipeline['schema']>[number];

/** `destinations[0].writeMode` from a zod issue path. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(pipeline)';
}

/** One line a user can act on: each problem as `field.path: message`, joined by `; `. */
export function describePipelineError(error: z.ZodError): string {
  return error.issues.map((issue) => `${fieldPath(issue.path)}: ${issue.message}`).join('; ');
}

/** Validates pipeline JSON, or throws `validation_failed` naming every field at fault. */
export function parsePipeline(input: unknown): Pipeline {
  const result = pipelineSchema.safeParse(input);
  if (!result.success) {
    throw new TaplineError(
      'validation_failed',
      `invalid pipeline: ${describePipelineError(result.error)}`,
    );
  }
  return result.data;
}
