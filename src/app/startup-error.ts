/**
 * Why a server could not start, in words an operator can act on. Not an API error: it never
 * reaches a client, and the CLI prints its message and exits.
 */
export class StartupError extends Error {
  readonly code = 'startup_refused';
  override name = 'StartupError';
}
