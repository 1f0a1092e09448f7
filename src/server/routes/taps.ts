import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { TaplineError } from '../../errors/catalogue.js';
import { tapBodySchema, tapViewSchema } from '../../taps/tap-schema.js';
import { errorResponses, nameParams } from './schemas.js';

const tags = ['taps'];

export async function tapRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { taps } = context;

  api.get(
    '/taps',
    {
      schema: { summary: 'List taps', tags, response: { 200: z.array(tapViewSchema) } },
      config: { role: 'viewer' },
    },
    async () => taps.list(),
  );

  api.post(
    '/taps',
    {
      schema: {
        summary: 'Create a tap',
        description: '409 when a tap of that name exists; 422 when targetPipeline does not.',
        tags,
        body: tapBodySchema,
        response: { 201: tapViewSchema, ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => reply.code(201).send(await taps.create(request.body)),
  );

  api.get(
    '/taps/:name',
    {
      schema: {
        summary: 'Get a tap',
        tags,
        params: nameParams,
        response: { 200: tapViewSchema, ...errorResponses },
      },
      config: { role: 'viewer' },
    },
    async (request) => taps.get(request.params.name),
  );

  api.put(
    '/taps/:name',
    {
      schema: {
        summary: 'Create or replace a tap',
        description: 'A changed script makes a new version.',
        tags,
        params: nameParams,
        body: tapBodySchema.partial({ name: true }),
        response: { 200: tapViewSchema, 201: tapViewSchema, ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (request.body.name !== undefined && request.body.name !== name) {
        throw new TaplineError(
          'validation_failed',
          `body.name '${request.body.name}' differs from the name in the path, '${name}'`,
        );
      }
      const { tap, created } = await taps.put({ ...request.body, name });
      return reply.code(created ? 201 : 200).send(tap);
    },
  );

  api.delete(
    '/taps/:name',
    {
      schema: {
        summary: 'Delete a tap with its versions, runs and state',
        tags,
        params: nameParams,
        response: { 204: z.null(), ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      await taps.delete(request.params.name);
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/taps/:name/versions',
    {
      schema: {
        summary: "List a tap's script versions, newest first",
        tags,
        params: nameParams,
        response: {
          200: z.array(
            z.object({
              tap: z.string(),
              version: z.number().int(),
              script: z.string(),
              createdAt: z.string(),
            }),
          ),
          ...errorResponses,
        },
      },
      config: { role: 'viewer' },
    },
    async (request) => taps.versions(request.params.name),
  );
}
