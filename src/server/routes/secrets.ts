import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { nameSchema } from '../../taps/tap-schema.js';
import { errorResponses, nameParams } from './schemas.js';

const tags = ['secrets'];
const fieldName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const secretViewSchema = z.object({
  name: z.string(),
  fields: z.array(z.string()).describe('Field names; values are never returned.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export async function secretRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.get(
    '/secrets',
    {
      schema: {
        summary: 'List secrets: names and field names, never values',
        tags,
        response: { 200: z.array(secretViewSchema) },
      },
      config: { role: 'viewer' },
    },
    async () => context.secrets.list(),
  );

  api.post(
    '/secrets',
    {
      schema: {
        summary: 'Create or replace a secret',
        description:
          'Each field reaches the scripts of taps naming this secret as an environment variable.',
        tags,
        body: z
          .object({
            name: nameSchema,
            values: z
              .record(
                z.string().regex(fieldName, 'must be an environment variable name'),
                z.string().max(64 * 1024),
              )
              .refine((values) => Object.keys(values).length > 0, 'must hold at least one field'),
          })
          .strict(),
        response: { 201: secretViewSchema, ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) =>
      reply.code(201).send(await context.secrets.put(request.body.name, request.body.values)),
  );

  api.delete(
    '/secrets/:name',
    {
      schema: {
        summary: 'Delete a secret',
        description: '409 while a tap names it, unless ?force=true.',
        tags,
        params: nameParams,
        querystring: z.object({ force: z.enum(['true', 'false']).default('false') }),
        response: { 204: z.null(), ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      await context.secrets.delete(request.params.name, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  );
}
