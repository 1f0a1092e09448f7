import { z } from 'zod';

/** The rollup of DESIGN section 5 as the API describes it (rollup.ts computes it). */
export const jobRollupSchema = z.object({
  pipelineToken: z.string(),
  pipeline: z.string(),
  status: z.enum(['processing', 'success', 'warning', 'error', 'timed_out']),
  startedAt: z.string(),
  lastEventAt: z.string().nullable(),
  elapsedMs: z.number(),
  recordCount: z.number(),
  lastError: z
    .object({
      processName: z.string(),
      description: z.string(),
      explanation: z.string().nullable(),
    })
    .nullable()
    .describe('Where and why the job failed or timed out; null otherwise.'),
});

export const rollupSchema = z.object({
  status: z.enum(['processing', 'success', 'warning', 'error']),
  allDone: z.boolean().describe('True when there is at least one job and every job has ended.'),
  jobCount: z.number().int(),
  jobs: z.array(jobRollupSchema),
});
