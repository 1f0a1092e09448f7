import path from 'node:path';
import type { MetadataStore } from '../store.js';
import { sqliteApiKeyStore } from './api-keys.js';
import { openDatabase } from './database.js';
import { sqliteEventStore } from './events.js';
import { sqliteJobStore } from './jobs.js';
import { sqlitePipelineStore } from './pipelines.js';
import { sqliteRunStore } from './runs.js';
import { sqliteSecretStore } from './secrets.js';
import { sqliteStateStore } from './state.js';
import { sqliteTapStore } from './taps.js';
import { dataDirLayout } from '../../config/data-dir-layout.js';

/** The embedded metadata store: one SQLite file, `<dataDir>/tapline.db`. */
export function openSqliteStore(dataDir: string): MetadataStore {
  const db = openDatabase(path.join(dataDir, dataDirLayout.metadata));
  return {
    taps: sqliteTapStore(db),
    runs: sqliteRunStore(db),
    state: sqliteStateStore(db),
    pipelines: sqlitePipelineStore(db),
    jobs: sqliteJobStore(db),
    events: sqliteEventStore(db),
    secrets: sqliteSecretStore(db),
    apiKeys: sqliteApiKeyStore(db),
    async close() {
      db.close();
    },
  };
}
