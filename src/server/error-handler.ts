import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { errorBody, isTaplineError, TaplineError } from '../errors/catalogue.js';

interface ValidationIssue {
  instancePath?: string;
  message?: string;
}

/** "body.params.bad-key: must be an identifier" — the field first, as a user looks for it. */
function describeValidation(context: string, issues: ValidationIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const parts = (issue.instancePath ?? '').split('/').filter((part) => part !== '');
      const field = parts.reduce(
        (out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : `${out}.${part}`),
        context,
      );
      return `${field}: ${issue.message ?? 'is invalid'}`;
    })
    .join('; ');
}

/** Fastify's own errors, mapped onto the catalogue by their status. */
function fromFastifyError(error: FastifyError): TaplineError {
  switch (error.statusCode) {
    case 413:
      return new TaplineError('body_too_large', 'the request body is larger than 1 MB');
    case 415:
      return new TaplineError('unsupported_media_type', 'send the body as application/json');
    case 404:
      return new TaplineError('not_found', error.message);
    default:
      if (error.code?.startsWith('FST_ERR_CTP')) {
        return new TaplineError('malformed_json', `the body is not valid JSON: ${error.message}`);
      }
      return new TaplineError('bad_request', error.message);
  }
}

/**
 * Turns every failure into the catalogue's JSON shape. Unknown errors are logged with their
 * stack and answered with a bare 500: a client never sees a stack trace.
 */
export function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  if (isTaplineError(error)) {
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.code(error.status).send(errorBody(error));
  }

  const fastifyError = error as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fastifyError)) {
    const context = fastifyError.validationContext ?? 'body';
    const message = describeValidation(context, fastifyError.validation as ValidationIssue[]);
    return reply.code(400).send(errorBody(new TaplineError('validation_failed', message)));
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const mapped = fromFastifyError(fastifyError);
    return reply.code(mapped.status).send(errorBody(mapped));
  }

  request.log.error({ err: error }, 'request failed');
  const internal = new TaplineError('internal', 'internal error; the server log has the details');
  return reply.code(500).send(errorBody(internal));
}

export function handleNotFound(request: FastifyRequest, reply: FastifyReply) {
  const error = new TaplineError('not_found', `no route ${request.method} ${request.url}`);
  return reply.code(404).send(errorBody(error));
}

/** Errors Fastify raises before routing (an over-long path parameter, a bad URL). */
export function handleFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a name in the path is longer than any valid name'
      : `the request could not be read: ${error.message}`;
  return reply.code(400).send(errorBody(new TaplineError('bad_request', message)));
}
