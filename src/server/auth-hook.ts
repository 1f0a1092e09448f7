import type { FastifyReply, FastifyRequest } from 'fastify';
import { allows, type KeyService } from '../auth/key-service.js';
import { errorBody, TaplineError } from '../errors/catalogue.js';
import type { Role } from '../store/store.js';

export type RouteRole = Role | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route states it, `public` needs no key. */
    role?: RouteRole;
  }
  interface FastifyRequest {
    /** The caller's role; undefined when no API keys are in use (every caller is trusted). */
    callerRole: Role | undefined;
  }
}

/**
 * Checks `x-api-key` against the route's role. A route that forgot to declare a role is
 * treated as admin-only, so an omission fails closed.
 */
export function authHook(keys: KeyService) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const needed = request.routeOptions.config.role ?? 'admin';
    if (needed === 'public' || !(await keys.enabled())) return;

    const header = request.headers['x-api-key'];
    const caller = await keys.identify(Array.isArray(header) ? header[0] : header);
    if (!caller) {
      const error = new TaplineError(
        'unauthorized',
        'missing or unknown API key; send it in the x-api-key header',
      );
      return reply.code(error.status).send(errorBody(error));
    }
    request.callerRole = caller.role;
    if (!allows(caller.role, needed)) {
      const error = new TaplineError(
        'forbidden',
        `API key '${caller.name}' has role ${caller.role}; this needs ${needed}`,
      );
      return reply.code(error.status).send(errorBody(error));
    }
  };
}
