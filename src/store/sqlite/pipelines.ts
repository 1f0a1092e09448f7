import type { PipelineStore, StoredPipeline } from '../store.js';
import { type Db, now, toJson } from './database.js';

interface PipelineRow {
  name: string;
  definition: string;
  created_at: string;
  updated_at: string;
}

function toPipeline(row: PipelineRow): StoredPipeline {
  return {
    name: row.name,
    definition: JSON.parse(row.definition) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function sqlitePipelineStore(db: Db): PipelineStore {
  const select = db.prepare<[string], PipelineRow>('SELECT * FROM pipelines WHERE name = ?');
  const insert = db.prepare(
    'INSERT INTO pipelines (name, definition, created_at, updated_at) VALUES (?, ?, ?, ?)',
  );
  const update = db.prepare('UPDATE pipelines SET definition = ?, updated_at = ? WHERE name = ?');

  const create = db.transaction((name: string, definition: Record<string, unknown>) => {
    if (select.get(name)) return undefined;
    const at = now();
    insert.run(name, toJson(definition), at, at);
    return toPipeline(select.get(name)!);
  });
  const put = db.transaction((name: string, definition: Record<string, unknown>) => {
    if (!select.get(name)) return { pipeline: create(name, definition)!, created: true };
    update.run(toJson(definition), now(), name);
    return { pipeline: toPipeline(select.get(name)!), created: false };
  });

  return {
    async list() {
      return db
        .prepare<[], PipelineRow>('SELECT * FROM pipelines ORDER BY name')
        .all()
        .map(toPipeline);
    },
    async get(name) {
      const row = select.get(name);
      return row ? toPipeline(row) : undefined;
    },
    async create(name, definition) {
      return create.immediate(name, definition);
    },
    async put(name, definition) {
      return put.immediate(name, definition);
    },
    async delete(name) {
      return db.prepare('DELETE FROM pipelines WHERE name = ?').run(name).changes > 0;
    },
  };
}
