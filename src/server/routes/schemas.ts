import { z } from 'zod';
import { nameSchema } from '../../taps/tap-schema.js';

/** The JSON every failed request answers with, for the OpenAPI document. */
export const errorSchema = z
  .object({
    error: z.looseObject({ code: z.string(), message: z.string() }),
  })
  .describe('An error: a stable code and a message a user can act on.');

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  413: errorSchema,
  422: errorSchema,
};

export const nameParams = z.object({ name: nameSchema });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
