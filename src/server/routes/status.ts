import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { TaplineError } from '../../errors/catalogue.js';
import { rollupSchema } from '../../status/rollup-schema.js';
import { errorResponses } from './schemas.js';

const eventSchema = z.object({
  id: z.number().int(),
  dateTime: z.string(),
  epoch: z.number().int(),
  pipeline: z.string(),
  processName: z.string(),
  publisherToken: z.string(),
  pipelineToken: z.string(),
  filename: z.string(),
  state: z.enum(['begin', 'processing', 'end']),
  code: z.enum(['info', 'warning', 'error']),
  description: z.string(),
});

const token = z.string().max(100);

export async function statusRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/pipeline/status',
    {
      schema: {
        summary: 'Load progress: status events, and with withrollup=true a per-job rollup',
        description:
          'Give exactly one of publishertoken (every job of a run), pipelinetoken (one job) or ' +
          'pipelinename (that pipeline’s jobs, 20 a page, newest first). A token nobody knows ' +
          'answers an empty list, not an error.',
        tags: ['status'],
        querystring: z.object({
          publishertoken: token.optional(),
          pipelinetoken: token.optional(),
          pipelinename: z.string().max(128).optional(),
          page: z.coerce.number().int().min(1).default(1),
          withrollup: z.enum(['true', 'false']).default('false'),
        }),
        response: {
          200: z.union([
            z.array(eventSchema),
            z.object({ rollup: rollupSchema, events: z.array(eventSchema) }),
          ]),
          ...errorResponses,
        },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const { publishertoken, pipelinetoken, pipelinename } = request.query;
      const given = [publishertoken, pipelinetoken, pipelinename].filter((v) => v !== undefined);
      if (given.length !== 1) {
        throw new TaplineError(
          'validation_failed',
          'give exactly one of publishertoken, pipelinetoken or pipelinename',
        );
      }
      return context.status.query({
        ...request.query,
        withrollup: request.query.withrollup === 'true',
      });
    },
  );
}
