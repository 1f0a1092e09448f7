import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { sandboxDefaults } from '../runner/sandbox-defaults.js';

const runnerSchema = z
  .object({
    python: z.string().min(1).default('python3'),
    testTimeoutSeconds: z.number().positive().default(300),
    runTimeoutSeconds: z.number().positive().default(3600),
    /** Captured stdout+stderr per run; past it the middle is cut, head and tail kept. */
    logBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** The largest single record line a script may emit. */
    maxRecordBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /**
     * Memory a script may use, in bytes: the address space of each of its processes, and where
     * a memory cgroup can be made (v2, or v1's memory controller) all of a run's processes
     * together. Past it the run fails (memory_limit).
     */
    memoryBytes: z
      .number()
      .int()
      .positive()
      .default(2 * 1024 * 1024 * 1024),
    /** CPU seconds each process of a script may use; past it the run fails (cpu_limit). */
    cpuSeconds: z.number().int().positive().default(sandboxDefaults.cpuSeconds),
    /**
     * Processes a script may have at once (threads too where a pids cgroup is used); a fork
     * past it fails the run (process_limit) and every process of the run is killed.
     */
    maxProcesses: z.number().int().positive().default(sandboxDefaults.maxProcesses),
    /** Bytes a script may keep in its working directory (disk_limit past it). */
    maxWorkdirBytes: z.number().int().positive().default(sandboxDefaults.maxWorkdirBytes),
    /** Record bytes (NDJSON) one run may produce (records_limit past it). */
    maxRunRecordBytes: z.number().int().positive().default(sandboxDefaults.maxRunRecordBytes),
    /**
     * Record bytes (NDJSON) a test run may keep in memory for its answer, whatever its
     * testLimit; past it the run fails (records_limit). Run mode stages records on disk instead.
     */
    maxTestRecordBytes: z.number().int().positive().default(sandboxDefaults.maxTestRecordBytes),
    /** Bytes a script may print in all; only logBytes of them are kept (output_limit). */
    maxOutputBytes: z.number().int().positive().default(sandboxDefaults.maxOutputBytes),
    /** Bytes of one printed line; a longer line fails the run (output_limit). */
    maxLogLineBytes: z.number().int().positive().default(sandboxDefaults.maxLogLineBytes),
    /** Scripts that may run at once; more wait in line. */
    maxConcurrentRuns: z.number().int().positive().default(4),
    /** Runs that may wait for a slot; past it requests get 503 with Retry-After. */
    maxQueuedRuns: z.number().int().min(0).default(100),
  })
  .strict();

const jobsSchema = z
  .object({
    /** In-process workers that load jobs into destinations at once. */
    workers: z.number().int().positive().default(2),
    /** A job with no end after this long counts as timed out in the rollup. */
    timeoutSeconds: z
      .number()
      .positive()
      .default(8 * 3600),
    /**
     * Once a run has staged this many bytes, its job's load begins while the script still runs
     * (jobs/early-load.ts); a smaller run is loaded after it ends. null turns early loads off.
     */
    earlyLoadAfterBytes: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(8 * 1024 * 1024),
  })
  .strict();

const aiSchema = z
  .object({
    provider: z.enum(['openai', 'anthropic']).optional(),
    baseUrl: z.string().optional(),
    model: z.string().optional(),
    apiKey: z.string().optional(),
    budgetMs: z.number().int().positive().default(15_000),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z.string().default('./.tapline'),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    apiKey: z.string().min(1).optional(),
    databaseUrl: z.string().optional(),
    /** After SIGTERM, how long running scripts and loads may take to finish. */
    shutdownGraceSeconds: z.number().min(0).default(30),
    logLevel: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    runner: runnerSchema.default(runnerSchema.parse({})),
    jobs: jobsSchema.default(jobsSchema.parse({})),
    ai: aiSchema.default(aiSchema.parse({})),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

type Env = Record<string, string | undefined>;

/** The TAPLINE_* variables and where each lands in the config; variables win over the file. */
function fromEnv(env: Env): Record<string, unknown> {
  const number = (name: string) => (env[name] === undefined ? undefined : Number(env[name]));
  const pick = {
    dataDir: env.TAPLINE_DATA_DIR,
    host: env.TAPLINE_HOST,
    port: number('TAPLINE_PORT'),
    apiKey: env.TAPLINE_API_KEY || undefined,
    databaseUrl: env.TAPLINE_DATABASE_URL || undefined,
    logLevel: env.TAPLINE_LOG_LEVEL,
    runner: { python: env.TAPLINE_PYTHON },
    jobs: { workers: number('TAPLINE_WORKERS') },
    ai: {
      provider: env.TAPLINE_AI_PROVIDER || undefined,
      baseUrl: env.TAPLINE_AI_BASE_URL || undefined,
      model: env.TAPLINE_AI_MODEL || undefined,
      apiKey: env.TAPLINE_AI_API_KEY || undefined,
    },
  };
  return dropUndefined(pick) as Record<string, unknown>;
}

function dropUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const kept = dropUndefined(inner);
    if (kept !== undefined) out[key] = kept;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>) {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? merge(current, value) : value;
  }
  return out;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads `tapline.yaml` (or the file in TAPLINE_CONFIG), then the TAPLINE_* variables, then
 * `overrides` (command-line flags), each winning over the one before.
 */
export function loadConfig(options: { env?: Env; cwd?: string; overrides?: ConfigInput } = {}) {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const file = env.TAPLINE_CONFIG ?? path.join(cwd, 'tapline.yaml');

  let fromFile: Record<string, unknown> = {};
  if (existsSync(file)) {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed !== null && !isPlainObject(parsed)) {
      throw new ConfigError(`${file}: expected a mapping at the top level`);
    }
    fromFile = (parsed as Record<string, unknown> | null) ?? {};
  } else if (env.TAPLINE_CONFIG) {
    throw new ConfigError(`TAPLINE_CONFIG names ${file}, which does not exist`);
  }

  const overrides = dropUndefined(options.overrides ?? {}) as Record<string, unknown>;
  const merged = merge(merge(fromFile, fromEnv(env)), overrides);
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return { ...result.data, dataDir: path.resolve(cwd, result.data.dataDir) } satisfies Config;
}
