import { isTaplineError } from '../errors/catalogue.js';
import { ApiError } from './api-client.js';
import { CliError, cliError, exitCodes } from './cli-errors.js';

interface ErrorReport {
  code: string;
  message: string;
  hint?: string;
  details: Record<string, unknown>;
  exitCode: number;
}

/**
 * A catch handler that gives the server's error `code` a hint in the command's own terms, e.g.
 * the flag that does what the server's message says is needed.
 */
export function withHint(code: string, hint: string) {
  return (error: unknown): never => {
    if (error instanceof ApiError && error.code === code) error.hint = hint;
    throw error;
  };
}

function hintFor(error: ApiError): string | undefined {
  if (error.hint !== undefined) return error.hint;
  const similar = Array.isArray(error.details.similar) ? (error.details.similar as string[]) : [];
  if (error.code === 'tap_not_found') {
    return similar.length > 0
      ? `did you mean: ${similar.join(', ')}?`
      : 'tapline tap list shows the saved taps';
  }
  if (error.code === 'pipeline_not_found' || error.code === 'unknown_pipeline') {
    return similar.length > 0
      ? `did you mean: ${similar.join(', ')}?`
      : 'tapline pipeline list shows the saved pipelines';
  }
  if (error.code === 'unauthorized') return 'pass --api-key or set TAPLINE_API_KEY';
  if (error.code === 'forbidden')
    return 'this API key may not do that; ask for a key with more rights';
  return undefined;
}

function describe(error: unknown): ErrorReport {
  if (error instanceof CliError) {
    const { code, message, details, exitCode } = error;
    return { code, message, details, exitCode };
  }
  if (error instanceof ApiError) {
    return {
      code: error.code,
      message: error.message,
      hint: hintFor(error),
      details: error.details,
      exitCode: exitCodes.failure,
    };
  }
  if (isTaplineError(error)) {
    // A domain service the CLI runs in-process (the key commands) refused.
    return {
      code: error.code,
      message: error.message,
      details: error.details ?? {},
      exitCode: exitCodes.failure,
    };
  }
  return describe(cliError('unexpected', error instanceof Error ? error.message : String(error)));
}

/**
 * Prints a failure the way the user asked for output (the API's error shape on stdout with
 * `--json`, a sentence on stderr otherwise) and returns the exit code.
 */
export function reportError(error: unknown, options: { json: boolean }): number {
  const report = describe(error);
  if (options.json) {
    const body = { code: report.code, message: report.message, ...report.details };
    process.stdout.write(`${JSON.stringify({ error: body }, null, 2)}\n`);
  } else {
    process.stderr.write(`tapline: ${report.message}\n`);
    if (report.hint) process.stderr.write(`${report.hint}\n`);
  }
  return report.exitCode;
}
