import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { errorBody, TaplineError } from '../errors/catalogue.js';

/**
 * Answers a request Node's HTTP parser refused before Fastify saw it (headers past 16 KiB, a
 * request that is not HTTP, one that took too long) in the API's own error shape, written
 * straight to the socket since there is no request to reply to.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const failure =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new TaplineError(
          'headers_too_large',
          'the request line and headers pass 16 KiB; send long values in a POST body instead',
        )
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new TaplineError('slow_request', 'the request did not arrive in time')
        : new TaplineError('bad_request', 'the request is not valid HTTP');
  const body = JSON.stringify(errorBody(failure));
  socket.end(
    `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
