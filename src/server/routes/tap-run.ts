import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AppContext } from '../../app/context.js';
import { runAnswerSchema, runRequestSchema } from '../../runs/run-schema.js';
import { errorResponses, errorSchema } from './schemas.js';

export async function tapRunRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/tap/run',
    {
      schema: {
        summary: 'Run a tap',
        description:
          "Runs a saved tap. 'test' returns the records and stores nothing; 'run' feeds them into " +
          "the tap's target pipeline and answers with tokens to poll GET /pipeline/status with. " +
          'The answer comes once the script has finished; loading continues in the background.',
        tags: ['runs'],
        body: runRequestSchema,
        response: {
          200: runAnswerSchema.describe('Run result'),
          ...errorResponses,
          503: errorSchema,
        },
      },
      config: { role: 'operator', exactNumbers: true },
    },
    async (request) => {
      // The CLI and the MCP server say who they are, so run history shows where a run came from.
      const client = request.headers['x-tapline-client'];
      const trigger = client === 'cli' || client === 'mcp' ? client : 'api';
      return context.runs.run({ ...request.body, trigger });
    },
  );
}
