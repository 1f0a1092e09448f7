import type { SecretStore, StoredSecret } from '../store.js';
import { type Db, now } from './database.js';

interface SecretRow {
  name: string;
  fields: string;
  sealed: string;
  created_at: string;
  updated_at: string;
}

function toSecret(row: SecretRow): StoredSecret {
  return {
    name: row.name,
    fields: JSON.parse(row.fields) as string[],
    sealed: row.sealed,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function sqliteSecretStore(db: Db): SecretStore {
  const select = db.prepare<[string], SecretRow>('SELECT * FROM secrets WHERE name = ?');
  return {
    async list() {
      return db.prepare<[], SecretRow>('SELECT * FROM secrets ORDER BY name').all().map(toSecret);
    },
    async get(name) {
      const row = select.get(name);
      return row ? toSecret(row) : undefined;
    },
    async put(name, fields, sealed) {
      const at = now();
      db.prepare(
        `INSERT INTO secrets (name, fields, sealed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET fields = excluded.fields, sealed = excluded.sealed,
           updated_at = excluded.updated_at`,
      ).run(name, JSON.stringify(fields), sealed, at, at);
      return toSecret(select.get(name)!);
    },
    async delete(name) {
      return db.prepare('DELETE FROM secrets WHERE name = ?').run(name).changes > 0;
    },
  };
}
