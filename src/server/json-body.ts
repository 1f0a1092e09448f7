import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSafeNumber, parse as parseLossless } from 'lossless-json';
import sjson from 'secure-json-parse';
import { TaplineError } from '../errors/catalogue.js';

/**
 * Deeper than any tap, pipeline, state or params a person writes; a deeper body is an attack
 * on the recursive code that walks it (validation, the exact-number parser and serializer).
 */
export const maxBodyDepth = 100;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Keep numbers exactly as written (run params, state) instead of as doubles. */
    exactNumbers?: boolean;
  }
}

const integerLiteral = /^-?\d+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Numbers as a script should see them: safe numbers as numbers, integers past 2^53 as BigInt
 * (exact digits), and anything a double would change (1e400, 0.1000000000000000000001) as
 * its own text, since params reach the script as text anyway.
 */
function parseNumber(text: string): number | bigint | string {
  if (isSafeNumber(text)) return Number(text);
  return integerLiteral.test(text) ? BigInt(text) : text;
}

/** Whether brackets nest deeper than `limit`, in one pass that skips string contents. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i++; // a backslash escapes the next character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x7b || code === 0x5b) {
      if (++depth > limit) return true;
    } else if (code === 0x7d || code === 0x5d) {
      depth--;
    }
  }
  return false;
}

function parseBody(request: FastifyRequest, bytes: Buffer): unknown {
  let text: string;
  try {
    // A lenient decoder would turn bad bytes into U+FFFD and store a value nobody sent.
    text = utf8.decode(bytes);
  } catch {
    throw new TaplineError('malformed_json', 'the body is not valid UTF-8');
  }
  if (text.trim() === '') {
    if (request.routeOptions.schema?.body === undefined) return undefined;
    throw new TaplineError('malformed_json', 'the body is empty; send a JSON object');
  }
  if (nestsDeeperThan(text, maxBodyDepth)) {
    throw new TaplineError(
      'bad_request',
      `the body nests objects or arrays more than ${maxBodyDepth} levels deep`,
    );
  }

  let parsed: unknown;
  try {
    parsed = request.routeOptions.config.exactNumbers
      ? parseLossless(text, null, parseNumber)
      : JSON.parse(text);
  } catch (error) {
    throw new TaplineError(
      'malformed_json',
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
  if (typeof parsed === 'object' && parsed !== null) {
    try {
      sjson.scan(parsed as Record<string, unknown>, {
        protoAction: 'error',
        constructorAction: 'error',
      });
    } catch {
      throw new TaplineError('malformed_json', 'the body holds a forbidden prototype property');
    }
  }
  return parsed;
}

/**
 * Replaces Fastify's JSON body parser for every route: strict UTF-8, a nesting limit,
 * prototype keys refused as Fastify's own parser refuses them, exact numbers where a route
 * asks for them, and an empty body accepted on routes that take none (a client that always
 * sends `content-type: application/json`, even on DELETE).
 */
export function useJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      done(null, parseBody(request, body as Buffer));
    } catch (error) {
      done(error as Error);
    }
  });
}
