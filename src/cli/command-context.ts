import type { Command } from 'commander';
import { ApiClient } from './api-client.js';
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

/** The client and output every command gets from the global options, wherever they were typed. */
export function commandContext(command: Command): CommandContext {
  const options = command.optsWithGlobals<GlobalOptions>();
  return {
    client: new ApiClient({ url: options.url, apiKey: options.apiKey }),
    out: new Output({ json: options.json === true, color: options.color }),
  };
}
