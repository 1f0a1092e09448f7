import type { FastifyInstance, InjectOptions } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AppContext, createContext } from '../../src/app/context.js';
import { type ConfigInput, loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/log/logger.js';
import { buildApp } from '../../src/server/app.js';

export interface TestApp {
  app: FastifyInstance;
  context: AppContext;
  dataDir: string;
  /** app.inject with a JSON body and the parsed JSON answer. */
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** A real app on a fresh data directory, driven through Fastify's inject (no socket). */
export async function startTestApp(overrides: ConfigInput = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tapline-test-'));
  const config = loadConfig({ env: {}, cwd: dataDir, overrides: { dataDir, ...overrides } });
  const context = await createContext(config, createLogger({ level: 'silent', pretty: false }));
  const app = await buildApp(context);
  return {
    app,
    context,
    dataDir,
    async call(method, url, body) {
      const response = await app.inject({
        method,
        url,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      const text = response.body;
      return {
        status: response.statusCode,
        body: text.length > 0 ? JSON.parse(text) : null,
        headers: response.headers,
      };
    },
    async close() {
      await app.close();
      await context.close(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls the rollup of a publisherToken until every job has ended. */
export async function waitForLoad(test: TestApp, publisherToken: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await test.call(
      'GET',
      `/api/v1/pipeline/status?publishertoken=${publisherToken}&withrollup=true`,
    );
    if (body.rollup.allDone) return body;
    if (Date.now() > deadline) throw new Error(`load not done: ${JSON.stringify(body.rollup)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const threeRecordsTap = `
def fetch():
    return [
        {"id": 1, "name": "Ada", "city": "London"},
        {"id": 2, "name": "Grace", "team": "Navy"},
        {"id": 3, "name": "Edsger", "city": "Austin"},
    ]
`;
