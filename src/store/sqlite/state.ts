import { parseRecordJson, stringifyRecords } from '../../records/record-json.js';
import type { StateStore } from '../store.js';
import { type Db, now } from './database.js';

export function sqliteStateStore(db: Db): StateStore {
  const select = db.prepare<[string], { tap: string; state: string; updated_at: string }>(
    'SELECT * FROM tap_state WHERE tap = ?',
  );
  return {
    async get(tap) {
      const row = select.get(tap);
      if (!row) return undefined;
      return { tap: row.tap, state: parseRecordJson(row.state), updatedAt: row.updated_at };
    },
    async put(tap, state) {
      const at = now();
      db.prepare(
        `INSERT INTO tap_state (tap, state, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (tap) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
      ).run(tap, stringifyRecords(state), at);
      return { tap, state, updatedAt: at };
    },
    async delete(tap) {
      return db.prepare('DELETE FROM tap_state WHERE tap = ?').run(tap).changes > 0;
    },
  };
}
