import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

let test: TestApp;
beforeAll(async () => {
  test = await startTestApp();
});
afterAll(async () => test.close());

interface Operation {
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { content?: { 'application/json': { schema: Schema } } }>;
}
interface Schema {
  properties?: Record<
    string,
    Schema & { enum?: string[]; description?: string; default?: unknown }
  >;
  required?: string[];
}

/** "METHOD /path" for each route in Fastify's printRoutes tree (HEAD left out: Fastify adds it). */
function servedRoutes(tree: string): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+) \(([^)]+)\)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const route = (prefixes[depth - 1] ?? '') + match[2];
    prefixes[depth] = route;
    for (const method of match[3]!.split(', ')) {
      if (method !== 'HEAD') routes.push(`${method} ${route}`);
    }
  }
  return routes;
}

it('serves a valid OpenAPI 3 document with every route', async () => {
  const response = await test.app.inject({ method: 'GET', url: '/docs/json' });
  expect(response.statusCode).toBe(200);
  const document = response.json();
  expect(document.openapi).toMatch(/^3\./);
  await SwaggerParser.validate(structuredClone(document));

  const routes = Object.entries(document.paths as Record<string, Record<string, unknown>>)
    .flatMap(([route, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${route}`))
    .sort();
  expect(routes).toEqual([
    'DELETE /api/v1/pipelines/{name}',
    'DELETE /api/v1/secrets/{name}',
    'DELETE /api/v1/taps/{name}',
    'DELETE /api/v1/taps/{name}/state',
    'GET /api/v1/pipeline/status',
    'GET /api/v1/pipelines',
    'GET /api/v1/pipelines/{name}',
    'GET /api/v1/runs/{runId}',
    'GET /api/v1/secrets',
    'GET /api/v1/taps',
    'GET /api/v1/taps/{name}',
    'GET /api/v1/taps/{name}/runs',
    'GET /api/v1/taps/{name}/state',
    'GET /api/v1/taps/{name}/versions',
    'GET /healthz',
    'POST /api/v1/pipelines',
    'POST /api/v1/secrets',
    'POST /api/v1/tap/run',
    'POST /api/v1/taps',
    'PUT /api/v1/pipelines/{name}',
    'PUT /api/v1/taps/{name}',
    'PUT /api/v1/taps/{name}/state',
  ]);
  expect(document.components.securitySchemes.apiKey).toEqual({
    type: 'apiKey',
    name: 'x-api-key',
    in: 'header',
  });

  // The document lists exactly what the app serves, besides the documentation pages themselves.
  const served = servedRoutes(test.app.printRoutes({ commonPrefix: false }))
    .filter((route) => !route.includes(' /docs'))
    .map((route) => route.replace(/:(\w+)/g, '{$1}'))
    .sort();
  expect(served).toEqual(routes);

  const page = await test.app.inject({ method: 'GET', url: '/docs/' });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toContain('text/html');
});

it('describes POST /api/v1/tap/run with the fields, enums and descriptions of the API page', async () => {
  const document = (await test.app.inject({ method: 'GET', url: '/docs/json' })).json();
  const run: Operation = document.paths['/api/v1/tap/run'].post;
  const body = run.requestBody!.content['application/json'].schema;
  expect(body.required).toEqual(['name']);
  expect(body.properties!.mode!.enum).toEqual(['run', 'test']);
  expect(body.properties!.mode!.default).toBe('test');
  expect(body.properties!.mode!.description).toBe(
    "'run' feeds records into the configured target pipeline; 'test' executes the script and " +
      'returns results without persisting',
  );
  expect(body.properties!.params!.description).toContain('json.loads()');

  const answer = run.responses['200']!.content!['application/json'].schema;
  expect(Object.keys(answer.properties!)).toEqual(
    expect.arrayContaining([
      'tap',
      'description',
      'status',
      'mode',
      'targetPipeline',
      'persisted',
      'persistedReason',
      'publisherToken',
      'pipelineTokens',
      'records',
      'recordCount',
      'dataType',
      'columns',
      'logs',
      'error',
      'aiExplanation',
      'runId',
      'durationMs',
      'recordsTruncated',
    ]),
  );
  expect(answer.properties!.status!.enum).toEqual(['success', 'failure']);
  expect(answer.properties!.persistedReason!.enum).toEqual([
    'test_mode',
    'run_error',
    'no_records',
    'no_target_pipeline',
  ]);
  expect(answer.properties!.persisted!.description).toBe(
    'True iff records were fed into the target pipeline',
  );
  expect(answer.properties!.pipelineTokens!.description).toContain('Length 1 for structured taps');
});
