import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { jsonSchemaTransform, validatorCompiler } from 'fastify-type-provider-zod';
import type { AppContext } from '../app/context.js';
import { errorBody, TaplineError } from '../errors/catalogue.js';
import { stringifyRecords } from '../records/record-json.js';
import { handleError, handleFrameworkError, handleNotFound } from './error-handler.js';
import { healthRoutes } from './routes/health.js';
import { authHook } from './auth-hook.js';
import { answerClientError } from './client-error.js';
import { useJsonBodies } from './json-body.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { runRoutes } from './routes/runs.js';
import { secretRoutes } from './routes/secrets.js';
import { statusRoutes } from './routes/status.js';
import { tapRoutes } from './routes/taps.js';
import { tapRunRoutes } from './routes/tap-run.js';

export const bodyLimitBytes = 1024 * 1024;

/**
 * The HTTP face: routes translate requests into service calls and nothing more. Response
 * schemas document the API; the serializer writes records' large integers as exact digits,
 * which the schema-driven serializers cannot.
 */
export async function buildApp(context: AppContext): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    // Request lines would be noise; the onResponse hook below logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: bodyLimitBytes,
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: answerClientError,
    // Requests that arrive while the server stops get the catalogue's 503 from the hook below.
    return503OnClosing: false,
    // Tap names carry dots; a route must not treat ".json" as a format suffix or similar.
    // Long enough for any valid name; longer path segments are refused before routing.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(() => (data) => stringifyRecords(data));
  app.setErrorHandler(handleError);
  app.setNotFoundHandler(handleNotFound);
  // Bodies are JSON; Fastify's default text parser would turn a text/plain body into a 400
  // about the body's type instead of the 415 it is.
  app.removeContentTypeParser('text/plain');
  useJsonBodies(app);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    const error = new TaplineError('shutting_down', 'tapline is stopping; retry in a moment');
    return reply
      .code(503)
      .header('connection', 'close')
      .header('retry-after', '5')
      .send(errorBody(error));
  });
  app.addHook('onResponse', async (request, reply) => {
    const fields = { method: request.method, url: request.url, status: reply.statusCode };
    if (reply.statusCode >= 500) request.log.warn(fields, 'request failed');
    else request.log.debug({ ...fields, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'tapline',
        version: context.version,
        description: 'Run Python taps, test them, and load their records through pipelines.',
      },
      components: {
        securitySchemes: { apiKey: { type: 'apiKey', name: 'x-api-key', in: 'header' } },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes);
  await app.register(
    async (api) => {
      // Only the API needs a key: /healthz and /docs stay open.
      api.decorateRequest('callerRole', undefined);
      api.addHook('onRequest', authHook(context.keys));
      await api.register(tapRoutes, { context });
      await api.register(tapRunRoutes, { context });
      await api.register(runRoutes, { context });
      await api.register(pipelineRoutes, { context });
      await api.register(statusRoutes, { context });
      await api.register(secretRoutes, { context });
    },
    { prefix: '/api/v1' },
  );
  return app;
}
