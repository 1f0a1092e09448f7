/**
 * Every error a client can see, in one place: a stable code, the HTTP status it maps to, and
 * a message a user can act on. Domain code throws `TaplineError`; the HTTP face turns it into
 * `{"error": {"code", "message"}}` and the CLI prints the message.
 */
export const errorCatalogue = {
  bad_request: { status: 400 },
  validation_failed: { status: 400 },
  malformed_json: { status: 400 },
  unauthorized: { status: 401 },
  slow_request: { status: 408 },
  forbidden: { status: 403 },
  not_found: { status: 404 },
  tap_not_found: { status: 404 },
  run_not_found: { status: 404 },
  pipeline_not_found: { status: 404 },
  secret_not_found: { status: 404 },
  tap_exists: { status: 409 },
  pipeline_exists: { status: 409 },
  pipeline_in_use: { status: 409 },
  secret_in_use: { status: 409 },
  run_in_progress: { status: 409 },
  body_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  headers_too_large: { status: 431 },
  unknown_pipeline: { status: 422 },
  unknown_secret: { status: 422 },
  too_many_runs: { status: 503 },
  shutting_down: { status: 503 },
  internal: { status: 500 },
} as const satisfies Record<string, { status: number }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class TaplineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields a client may use, e.g. the id of the run that holds a lock. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'TaplineError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }
}

export function isTaplineError(error: unknown): error is TaplineError {
  return error instanceof TaplineError;
}

/** The JSON body every failed request answers with. */
export function errorBody(error: TaplineError): {
  error: { code: ErrorCode; message: string } & Record<string, unknown>;
} {
  return { error: { code: error.code, message: error.message, ...(error.details ?? {}) } };
}
