import type { ApiKey, ApiKeyStore } from '../store.js';
import { type Db, now } from './database.js';

interface KeyRow {
  name: string;
  role: ApiKey['role'];
  hash: string;
  created_at: string;
  last_used_at: string | null;
}

function toKey(row: KeyRow): ApiKey {
  return {
    name: row.name,
    role: row.role,
    hash: row.hash,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

export function sqliteApiKeyStore(db: Db): ApiKeyStore {
  return {
    async list() {
      return db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY name').all().map(toKey);
    },
    async count() {
      return db.prepare<[], number>('SELECT count(*) FROM api_keys').pluck().get() ?? 0;
    },
    async create(key) {
      const result = db
        .prepare(
          `INSERT INTO api_keys (name, role, hash, created_at) VALUES (?, ?, ?, ?)
           ON CONFLICT DO NOTHING`,
        )
        .run(key.name, key.role, key.hash, now());
      if (result.changes === 0) return undefined;
      return toKey(
        db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE name = ?').get(key.name)!,
      );
    },
    async findByHash(hash) {
      const row = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE hash = ?').get(hash);
      return row ? toKey(row) : undefined;
    },
    async touch(name) {
      db.prepare('UPDATE api_keys SET last_used_at = ? WHERE name = ?').run(now(), name);
    },
    async delete(name) {
      return db.prepare('DELETE FROM api_keys WHERE name = ?').run(name).changes > 0;
    },
  };
}
