import type { Destination } from '../pipelines/pipeline-schema.js';
import type { DestinationLoader, LoadContext } from './destination.js';
import { FileLoader } from './file.js';
import { SqliteLoader } from './sqlite.js';
import { WebhookLoader } from './webhook.js';

/** The loader for one of a pipeline's destinations. */
export function createLoader(destination: Destination, context: LoadContext): DestinationLoader {
  switch (destination.type) {
    case 'sqlite':
      return new SqliteLoader(destination, context);
    case 'file':
      return new FileLoader(destination, context);
    case 'webhook':
      return new WebhookLoader(destination, context);
  }
}
