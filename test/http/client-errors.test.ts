import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/test-app.js';

let test: TestApp;
let port: number;
beforeAll(async () => {
  test = await startTestApp();
  await test.app.listen({ host: '127.0.0.1', port: 0 });
  port = (test.app.server.address() as { port: number }).port;
});
afterAll(async () => test.close());

/** Sends raw bytes on a real connection and returns the whole answer as text. */
function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

function split(answer: string): { statusLine: string; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  return { statusLine: head.split('\r\n')[0]!, body: JSON.parse(body) };
}

it('answers headers past 16 KiB with the API error shape', async () => {
  const token = 'x'.repeat(100_000);
  const answer = await rawRequest(
    `GET /api/v1/pipeline/status?publishertoken=${token} HTTP/1.1\r\nHost: tapline\r\n\r\n`,
  );

  expect(split(answer)).toEqual({
    statusLine: 'HTTP/1.1 431 Request Header Fields Too Large',
    body: {
      error: {
        code: 'headers_too_large',
        message:
          'the request line and headers pass 16 KiB; send long values in a POST body instead',
      },
    },
  });
});

it('answers bytes that are not HTTP with the API error shape', async () => {
  const answer = await rawRequest('HELLO THERE\r\n\r\n');

  expect(split(answer)).toEqual({
    statusLine: 'HTTP/1.1 400 Bad Request',
    body: { error: { code: 'bad_request', message: 'the request is not valid HTTP' } },
  });
});
