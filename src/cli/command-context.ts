import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
import { cliError } from './cli-errors.js';
import { Output } from './output.js';

export interface GlobalOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
  color?: boolean;
}

export interface CommandContext {
  client: ApiClient;
  out: Output;
}

/** The server's address, checked before any request so a typo is a usage mistake. */
function serverUrl(text: string): string {
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw cliError(
      'usage',
      `--url (or TAPLINE_URL) must be an http:// or https:// address such as ` +
        `http://127.0.0.1:8080, not '${text}'`,
    );
  }
  return text;
}

/** The client and output every command gets from the global options, wherever they were typed. */
export function commandContext(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  let client: ApiClient | undefined;
  return {
    // Made on first use: the key commands work on the data directory and never call the server.
    get client() {
      client ??= new ApiClient({ url: serverUrl(options.url), apiKey: options.apiKey });
      return client;
    },
    out: new Output({ json: options.json === true, color: options.color }),
  };
}
