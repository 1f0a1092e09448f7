import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { runViewSchema } from '../../runs/run-schema.js';
import { errorResponses, nameParams, pageQuery } from './schemas.js';

const stateSchema = z.object({
  tap: z.string(),
  state: z.unknown().describe('The bookmark the script reads from TAP_STATE; null when none.'),
  updatedAt: z.string().nullable(),
});

export async function runRoutes(app: FastifyInstance, { context }: { context: AppContext }) {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const { history, taps, store } = context;

  api.get(
    '/taps/:name/runs',
    {
      schema: {
        summary:
          "A tap's runs, newest first, each with the rollup of its load when it submitted jobs",
        tags: ['runs'],
        params: nameParams,
        querystring: pageQuery,
        response: { 200: z.array(runViewSchema), ...errorResponses },
      },
      config: { role: 'viewer' },
    },
    async (request) => history.listForTap(request.params.name, request.query),
  );

  api.get(
    '/runs/:runId',
    {
      schema: {
        summary: 'One run, with the rollup of its load when it submitted jobs',
        tags: ['runs'],
        params: z.object({ runId: z.string().max(100) }),
        response: { 200: runViewSchema, ...errorResponses },
      },
      config: { role: 'viewer' },
    },
    async (request) => history.get(request.params.runId),
  );

  api.get(
    '/taps/:name/state',
    {
      schema: {
        summary: "A tap's state (its incremental bookmark)",
        tags: ['state'],
        params: nameParams,
        response: { 200: stateSchema, ...errorResponses },
      },
      config: { role: 'viewer' },
    },
    async (request) => {
      const tap = await taps.require(request.params.name);
      const state = await store.state.get(tap.name);
      return { tap: tap.name, state: state?.state ?? null, updatedAt: state?.updatedAt ?? null };
    },
  );

  api.put(
    '/taps/:name/state',
    {
      schema: {
        summary: "Set a tap's state",
        description: 'The body is the new state, any JSON object.',
        tags: ['state'],
        params: nameParams,
        body: z.record(z.string(), z.unknown()),
        response: { 200: stateSchema, ...errorResponses },
      },
      config: { role: 'admin', exactNumbers: true },
    },
    async (request) => {
      const tap = await taps.require(request.params.name);
      return store.state.put(tap.name, request.body);
    },
  );

  api.delete(
    '/taps/:name/state',
    {
      schema: {
        summary: "Reset a tap's state; the next run starts from scratch",
        tags: ['state'],
        params: nameParams,
        response: { 204: z.null(), ...errorResponses },
      },
      config: { role: 'admin' },
    },
    async (request, reply) => {
      const tap = await taps.require(request.params.name);
      await store.state.delete(tap.name);
      return reply.code(204).send(null);
    },
  );
}
