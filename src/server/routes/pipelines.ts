import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { TaplineError } from '../../errors/catalogue.js';
import { pipelineSchema } from '../../pipelines/pipeline-schema.js';
import { type PipelineView, withoutHeaderValues } from '../../pipelines/pipeline-service.js';
import type { Role } from '../../store/store.js';
import { errorResponses, nameParams } from './schemas.js';

const tags = ['pipelines'];
const pipelineViewSchema = z.looseObject({
  name: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export async function pipelineRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { pipelines } = context;

  api.get(
    '/pipelines',
    {
      schema: { summary: 'List pipelines', tags, response: { 200: z.array(pipelineViewSchema) } },
      config: { role: 'viewer' },
    },
    async (request) => (await pipelines.list()).map((view) => shownTo(request.callerRole, view)),
  );

  api.post(
    '/pipelines',
    {
      schema: {
        summary: 'Create a pipeline',
        tags,
        body: pipelineSchema,
        response: { 201: pipelineViewSchema, ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => reply.code(201).send(await pipelines.create(request.body)),
  );

  api.get(
    '/pipelines/:name',
    {
      schema: {
        summary: 'Get a pipeline',
        tags,
        params: nameParams,
        response: { 200: pipelineViewSchema, ...errorResponses },
      },
      config: { role: 'viewer' },
    },
    async (request) => shownTo(request.callerRole, await pipelines.get(request.params.name)),
  );

  api.put(
    '/pipelines/:name',
    {
      schema: {
        summary: 'Create or replace a pipeline',
        tags,
        params: nameParams,
        body: pipelineSchema,
        response: { 200: pipelineViewSchema, 201: pipelineViewSchema, ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      if (request.body.name !== request.params.name) {
        throw new TaplineError(
          'validation_failed',
          `body.name '${request.body.name}' differs from the name in the path, '${request.params.name}'`,
        );
      }
      const { pipeline, created } = await pipelines.put(request.body);
      return reply.code(created ? 201 : 200).send(pipeline);
    },
  );

  api.delete(
    '/pipelines/:name',
    {
      schema: {
        summary: 'Delete a pipeline',
        description: '409 while a tap targets it, unless ?force=true.',
        tags,
        params: nameParams,
        querystring: z.object({ force: z.enum(['true', 'false']).default('false') }),
        response: { 204: z.null(), ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      await pipelines.delete(request.params.name, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  );
}

/**
 * A webhook's headers often carry its credentials (Authorization), and only admins may change a
 * pipeline, so only admins (or everyone, when no API keys are in use) see their values.
 */
function shownTo(role: Role | undefined, view: PipelineView): PipelineView {
  return role === undefined || role === 'admin' ? view : withoutHeaderValues(view);
}
