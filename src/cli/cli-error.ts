/** Exit codes a script can branch on. */
export const exitCodes = { success: 0, failure: 1, usage: 2 } as const;

/**
 * A failure the CLI reports and exits on. `code` is what `--json` prints; `exitCode` is 2 for
 * a mistake in the command line and 1 for anything that went wrong after it was understood.
 */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = exitCodes.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError('usage', message, exitCodes.usage);
}
