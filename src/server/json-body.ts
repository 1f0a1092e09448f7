import type { FastifyInstance } from 'fastify';
import { isSafeNumber, parse } from 'lossless-json';
import sjson from 'secure-json-parse';
import { TaplineError } from '../errors/catalogue.js';

const integerLiteral = /^-?\d+$/;

/**
 * Numbers as a script should see them: safe numbers as numbers, integers past 2^53 as BigInt
 * (exact digits), and anything a double would change (1e400, 0.1000000000000000000001) as
 * its own text, since params reach the script as text anyway.
 */
function parseNumber(text: string): number | bigint | string {
  if (isSafeNumber(text)) return Number(text);
  return integerLiteral.test(text) ? BigInt(text) : text;
}

/**
 * Replaces Fastify's JSON body parser in the plugin it is registered in, so that a run's
 * params keep numbers exactly as the caller wrote them. Prototype keys are refused as
 * Fastify's own parser refuses them.
 */
export function useLosslessJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    let parsed: unknown;
    try {
      parsed = parse(body as string, null, parseNumber);
    } catch (error) {
      return done(
        new TaplineError(
          'malformed_json',
          `the body is not valid JSON: ${(error as Error).message}`,
        ),
      );
    }
    try {
      if (typeof parsed === 'object' && parsed !== null) {
        sjson.scan(parsed as Record<string, unknown>, {
          protoAction: 'error',
          constructorAction: 'error',
        });
      }
    } catch {
      return done(
        new TaplineError('malformed_json', 'the body holds a forbidden prototype property'),
      );
    }
    done(null, parsed);
  });
}
