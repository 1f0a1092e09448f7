import { shellWord } from './shell-word.js';

/** Exit codes a script can branch on. */
export const exitCodes = { success: 0, failure: 1, usage: 2 } as const;

/**
 * The codes the CLI reports on its own, beside the API's (src/errors/catalogue.ts), which it
 * passes through as the server sent them. Each has the exit code a script sees and a message
 * template; `--json` prints `{"error": {"code", "message", ...details}}` on stdout.
 */
export const cliErrors = {
  /** A mistake in the command line, found before anything ran. */
  usage: { exitCode: exitCodes.usage, message: (problem: string) => problem },
  /** Nothing answered at the server's URL; `details.url` names it. */
  unreachable: {
    exitCode: exitCodes.failure,
    message: (url: string, reason: string) =>
      `cannot reach tapline at ${url} (${reason}); start it with \`tapline serve\``,
  },
  /** A success status with a body that is not JSON: something else answers at the URL. */
  bad_answer: {
    exitCode: exitCodes.failure,
    message: (status: number) => `the server answered ${status} with non-JSON`,
  },
  /** An error status without tapline's error code, e.g. from a proxy in between. */
  http_error: {
    exitCode: exitCodes.failure,
    message: (status: number, excerpt: string) => `the server answered ${status}: ${excerpt}`,
  },
  unknown_token: {
    exitCode: exitCodes.failure,
    message: (token: string) =>
      `no load job carries the token '${token}'; pass a publisherToken or pipelineToken from ` +
      'a run-mode answer (tapline tap runs NAME lists them)',
  },
  /** `--wait --timeout` ran out; the load goes on. */
  wait_timeout: {
    exitCode: exitCodes.failure,
    message: (status: string, waited: string, token: string) =>
      `the load is still ${status} after ${waited}; check again with: ` +
      `tapline status ${token} --wait`,
  },
  file_unreadable: {
    exitCode: exitCodes.failure,
    message: (file: string, reason: string) =>
      `cannot read the pipeline file '${file}' (${reason})`,
  },
  file_invalid: {
    exitCode: exitCodes.failure,
    message: (file: string, problem: string) => `'${file}' ${problem}`,
  },
  script_unreadable: {
    exitCode: exitCodes.failure,
    message: (file: string, reason: string) => `cannot read the script file '${file}' (${reason})`,
  },
  /** The key commands work on the server's data directory, which must be there. */
  no_data_dir: {
    exitCode: exitCodes.failure,
    message: (problem: string) =>
      `${problem}; point the command at the server's data directory with --data-dir or ` +
      'TAPLINE_DATA_DIR',
  },
  key_exists: {
    exitCode: exitCodes.failure,
    message: (name: string) =>
      `an API key named '${name}' already exists; pick another name, or revoke it first ` +
      `(tapline key revoke ${shellWord(name)}) to replace it`,
  },
  /** `tapline serve` was given a configuration it cannot use. */
  config: { exitCode: exitCodes.failure, message: (problem: string) => problem },
  /** `tapline serve` would not or could not start: no API key off loopback, a port in use. */
  startup_refused: { exitCode: exitCodes.failure, message: (problem: string) => problem },
  /** A fault in the CLI itself, or an answer it did not expect; worth reporting. */
  unexpected: {
    exitCode: exitCodes.failure,
    message: (problem: string) => `unexpected error: ${problem}`,
  },
} as const satisfies Record<string, { exitCode: number; message: (...args: never[]) => string }>;

export type CliErrorCode = keyof typeof cliErrors;

type MessageArgs<C extends CliErrorCode> = Parameters<(typeof cliErrors)[C]['message']>;

/**
 * A failure the CLI reports and exits on. Made with cliError(), so its message comes from the
 * catalogue; `details` are printed beside code and message with `--json`.
 */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(
    readonly code: CliErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'CliError';
    this.exitCode = cliErrors[code].exitCode;
  }
}

export function cliErrorMessage<C extends CliErrorCode>(code: C, ...args: MessageArgs<C>) {
  // The catalogue's `satisfies` checked each template; the call needs them as one type.
  const template = cliErrors[code].message as (...args: MessageArgs<C>) => string;
  return template(...args);
}

export function cliError<C extends CliErrorCode>(code: C, ...args: MessageArgs<C>): CliError {
  return new CliError(code, cliErrorMessage(code, ...args));
}
