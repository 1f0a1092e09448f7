import { z } from 'zod';
import { isParamKey } from '../runner/params.js';
import { rollupSchema } from '../status/rollup-schema.js';
import { nameSchema } from '../taps/tap-schema.js';

/**
 * Params become environment variables: keys must be identifiers, and no text may hold a NUL
 * byte, which an environment cannot carry.
 */
function checkParams(params: Record<string, unknown>, context: z.RefinementCtx): void {
  for (const [key, value] of Object.entries(params)) {
    if (!isParamKey(key)) {
      context.addIssue({
        code: 'custom',
        path: [key],
        message: 'is not an identifier (letters, digits and _, not starting with a digit)',
      });
    } else if (typeof value === 'string' && value.includes('\u0000')) {
      context.addIssue({ code: 'custom', path: [key], message: 'holds a NUL byte' });
    }
  }
}

export const runRequestSchema = z
  .object({
    name: nameSchema.describe('The tap to run.'),
    mode: z
      .enum(['run', 'test'])
      .default('test')
      .describe(
        "'run' feeds records into the configured target pipeline; 'test' executes the script " +
          'and returns results without persisting',
      ),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .superRefine(checkParams)
      .describe(
        'Optional per-run parameters. Each value is stringified and exposed to the tap script ' +
          'as an environment variable (nested objects/arrays are JSON-encoded so the script can ' +
          'json.loads() them back). Use for date-windowed backfills, e.g. ' +
          '{"since": "2026-05-01", "until": "2026-05-02"}. From Airflow, pass Jinja-templated ' +
          'values like {"since": "{{ ds }}"}.',
      )
      .meta({ example: { since: '2026-05-01', until: '2026-05-02' } }),
    testLimit: z
      .number()
      .int('must be an integer')
      .min(0, 'must be 0 (all) or more')
      .default(20)
      .describe('Test mode: stop after this many records; 0 returns all.'),
    updateState: z
      .boolean()
      .optional()
      .describe(
        'Commit the state this run produces. Default: true for run mode without params, ' +
          'false otherwise (a backfill must not move the incremental cursor).',
      ),
  })
  .strict();

export type RunRequest = z.infer<typeof runRequestSchema>;

export const runAnswerSchema = z.object({
  tap: z.string(),
  description: z.string(),
  status: z.enum(['success', 'failure']),
  mode: z.enum(['run', 'test']).describe('The mode this invocation ran in'),
  targetPipeline: z
    .string()
    .nullable()
    .describe('The pipeline configured on the tap (null if none — records will not persist)'),
  persisted: z.boolean().describe('True iff records were fed into the target pipeline'),
  persistedReason: z
    .enum(['test_mode', 'run_error', 'no_records', 'no_target_pipeline'])
    .optional()
    .describe('Present when persisted is false; explains why records did not land in a pipeline'),
  publisherToken: z
    .string()
    .optional()
    .describe(
      'UUID grouping every ingestion job this run submitted. Pass to GET /pipeline/status?' +
        'publishertoken= to watch load progress. Only present on persisted runs.',
    ),
  pipelineTokens: z
    .array(z.string())
    .optional()
    .describe(
      'UUIDs for each StreamNotifier job submitted. Length 1 for structured taps, N for ' +
        'document taps (one per document). Only present on persisted runs.',
    ),
  records: z
    .array(z.record(z.string(), z.unknown()))
    .optional()
    .describe('Test mode: the records the script returned, up to testLimit.'),
  recordCount: z.number().int(),
  recordsTruncated: z.boolean().describe('Test mode: the script had more records than testLimit.'),
  dataType: z.string().nullable().describe('json, csv or document'),
  columns: z.array(z.string()),
  logs: z.string(),
  error: z.string().optional(),
  aiExplanation: z.string().optional(),
  runId: z.string(),
  durationMs: z.number().int(),
});

export type RunAnswer = z.infer<typeof runAnswerSchema>;

export const runViewSchema = z.object({
  runId: z.string(),
  tap: z.string(),
  tapVersion: z.number().int(),
  mode: z.enum(['run', 'test']),
  trigger: z.enum(['api', 'cli', 'schedule', 'mcp']),
  params: z.record(z.string(), z.unknown()),
  status: z.enum(['running', 'success', 'no_records', 'failure']),
  recordCount: z.number().int(),
  recordsTruncated: z.boolean(),
  dataType: z.string().nullable(),
  columns: z.array(z.string()),
  logs: z.string(),
  error: z.string().nullable(),
  explanation: z.string().nullable(),
  explanationSource: z.string().nullable(),
  targetPipeline: z.string().nullable(),
  persisted: z.boolean(),
  persistedReason: z.string().nullable(),
  publisherToken: z.string().nullable(),
  pipelineTokens: z.array(z.string()),
  stateCommitted: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  rollup: rollupSchema
    .optional()
    .describe(
      'Load progress of the jobs the run submitted, as GET /pipeline/status?withrollup=true ' +
        'gives it; present on every run that has a publisherToken, in lists too.',
    ),
});

export type RunView = z.infer<typeof runViewSchema>;
