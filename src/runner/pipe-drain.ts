/**
 * Waiting for a script's pipes after its process has exited. A process that left the group
 * (setsid) can hold a pipe open forever, so "ended" is also "silent for a while" or "too long".
 */

import type { Readable } from 'node:stream';

/**
 * Resolves once the stream has ended, or has been silent for `idleMs` (not counting time it is
 * paused for backpressure), or `maxMs` has passed; then destroys it.
 */
export function drain(stream: Readable, idleMs: number, maxMs: number): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let idleTimer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(idleTimer);
      clearTimeout(maxTimer);
      stream.off('data', onData);
      stream.off('close', done);
      stream.off('end', done);
      stream.destroy();
      resolve();
    };
    const onIdle = () => {
      if (stream.isPaused()) idleTimer = setTimeout(onIdle, idleMs);
      else done();
    };
    const onData = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(onIdle, idleMs);
    };
    idleTimer = setTimeout(onIdle, idleMs);
    const maxTimer = Number.isFinite(maxMs) ? setTimeout(done, maxMs) : undefined;
    stream.on('data', onData);
    stream.once('end', done);
    stream.once('close', done);
  });
}
