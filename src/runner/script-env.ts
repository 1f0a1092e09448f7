/**
 * The environment a tap script runs in. It starts empty: only the variables below are copied
 * from the server's own environment, so nothing of tapline's (API keys, database URLs, model
 * keys) reaches a script. Then come params, state, the test limit and the tap's secret fields.
 */

import { stringifyRecords } from '../records/record-json.js';
import type { ScriptRunRequest } from './script-run.js';
import { paramEnv } from './params.js';

const copiedNames = new Set([
  'PATH',
  'HOME',
  'LANG',
  'TZ',
  'http_proxy',
  'HTTP_PROXY',
  'https_proxy',
  'HTTPS_PROXY',
  'no_proxy',
  'NO_PROXY',
  'all_proxy',
  'ALL_PROXY',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
]);

function isCopied(name: string): boolean {
  return copiedNames.has(name) || name.startsWith('LC_');
}

/**
 * TAP_STATE is absent when the tap has no state (undefined or null), as Datris does on a
 * first run; scripts read it with `json.loads(os.environ.get("TAP_STATE") or "{}")`.
 * TAP_TEST_LIMIT is set only in test mode with a limit, so its presence means "stop early".
 */
export function scriptEnv(
  request: Pick<ScriptRunRequest, 'mode' | 'params' | 'state' | 'testLimit' | 'secretEnv'>,
  serverEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(serverEnv)) {
    if (value !== undefined && isCopied(name)) env[name] = value;
  }

  // RLIMIT_AS counts reserved address space, not memory used: glibc reserves a 64 MB malloc
  // arena per thread that allocates, so a script with a dozen threads would hit a 1 GB limit
  // while using little. Two arenas cost little contention for the scripts taps are.
  env.MALLOC_ARENA_MAX = '2';

  Object.assign(env, paramEnv(request.params));

  if (request.state !== undefined && request.state !== null) {
    const state = stringifyRecords(request.state);
    env.TAP_STATE = state;
    env.DATRIS_TAP_STATE = state;
  }

  if (request.mode === 'test' && request.testLimit > 0) {
    env.TAP_TEST_LIMIT = String(request.testLimit);
    env.DATRIS_TAP_TEST_LIMIT = String(request.testLimit);
  }

  return Object.assign(env, request.secretEnv);
}
