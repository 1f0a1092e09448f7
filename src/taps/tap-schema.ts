import { Cron } from 'croner';
import { z } from 'zod';

export const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const nameSchema = z
  .string()
  .regex(namePattern, 'must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$')
  .describe('Letters, digits, `_`, `.` and `-`; starts with a letter or digit; at most 128.');

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function isCron(expression: string): boolean {
  try {
    new Cron(expression, { paused: true });
    return true;
  } catch {
    return false;
  }
}

export const scheduleSchema = z
  .object({
    cron: z
      .string()
      .refine(isCron, 'is not a valid cron expression')
      .describe('Five or six fields, e.g. "0 6 * * *".'),
    timezone: z
      .string()
      .default('UTC')
      .refine(isTimeZone, 'is not a known IANA time zone')
      .describe('IANA time zone the cron expression is read in.'),
  })
  .strict();

/** Fields the server owns; a client may send them back from a GET and they are ignored. */
const serverOwned = {
  version: z.unknown().optional(),
  createdAt: z.unknown().optional(),
  updatedAt: z.unknown().optional(),
  lastTest: z.unknown().optional(),
  lastRun: z.unknown().optional(),
  nextRunAt: z.unknown().optional(),
};

export const tapBodySchema = z
  .object({
    name: nameSchema,
    description: z.string().max(10_000).default(''),
    kind: z.enum(['structured', 'document']).default('structured'),
    script: z
      .string()
      .min(1, 'must not be empty')
      .max(512 * 1024)
      .describe('Python source that defines fetch().'),
    targetPipeline: nameSchema
      .nullable()
      .default(null)
      .describe('Pipeline that run-mode records feed; null keeps nothing.'),
    schedule: scheduleSchema.nullable().default(null),
    enabled: z.boolean().default(true),
    secret: nameSchema.nullable().default(null).describe('Secret whose fields the script gets.'),
    timeoutSeconds: z
      .number()
      .positive()
      .max(7 * 24 * 3600)
      .nullable()
      .default(null)
      .describe('Wall-clock limit for this tap, overriding the per-mode default.'),
    ...serverOwned,
  })
  .strict();

export type TapBody = z.infer<typeof tapBodySchema>;

const runSummarySchema = z.object({
  runId: z.string(),
  status: z.enum(['running', 'success', 'no_records', 'failure']),
  recordCount: z.number().int(),
  startedAt: z.string(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
});

export const tapViewSchema = z.object({
  name: z.string(),
  description: z.string(),
  kind: z.enum(['structured', 'document']),
  script: z.string(),
  targetPipeline: z.string().nullable(),
  schedule: z.object({ cron: z.string(), timezone: z.string() }).nullable(),
  enabled: z.boolean(),
  secret: z.string().nullable(),
  timeoutSeconds: z.number().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  lastTest: runSummarySchema.nullable(),
  lastRun: runSummarySchema.nullable(),
  nextRunAt: z.string().nullable(),
});

export type TapView = z.infer<typeof tapViewSchema>;
export type RunSummary = z.infer<typeof runSummarySchema>;
