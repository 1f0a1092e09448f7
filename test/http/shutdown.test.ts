import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, it } from 'vitest';
import { startTestApp } from '../support/test-app.js';

function request(agent: http.Agent, port: number, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; body: any; headers: http.IncomingHttpHeaders }>(
    (resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent,
          headers: payload ? { 'content-type': 'application/json' } : {},
        },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }),
          );
        },
      );
      req.on('error', reject);
      req.end(payload);
    },
  );
}

it('answers a request that arrives while the server stops with the catalogue’s 503', async () => {
  const test = await startTestApp();
  await test.call('PUT', '/api/v1/taps/slow', {
    script: 'import time\ndef fetch():\n    time.sleep(1)\n    return [{"a": 1}]\n',
  });
  await test.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = test.app.server.address() as AddressInfo;
  // One kept-alive socket: the second request waits on it behind the slow first one.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  const inFlight = request(agent, port, 'POST', '/api/v1/tap/run', { name: 'slow' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const closing = test.app.close();
  const late = await request(agent, port, 'GET', '/api/v1/taps');

  expect((await inFlight).body.records).toEqual([{ a: 1 }]);
  expect(late.status).toBe(503);
  expect(late.body).toEqual({
    error: { code: 'shutting_down', message: 'tapline is stopping; retry in a moment' },
  });
  expect(late.headers['retry-after']).toBe('5');
  agent.destroy();
  await closing;
  await test.context.close(1000);
});
