import type { Tap, TapSpec, TapStore, TapVersion } from '../store.js';
import { type Db, fromJson, now, toJson } from './database.js';

interface TapRow {
  name: string;
  description: string;
  kind: Tap['kind'];
  script: string;
  target_pipeline: string | null;
  schedule: string | null;
  enabled: number;
  secret: string | null;
  timeout_seconds: number | null;
  version: number;
  created_at: string;
  updated_at: string;
}

function toTap(row: TapRow): Tap {
  return {
    name: row.name,
    description: row.description,
    kind: row.kind,
    script: row.script,
    targetPipeline: row.target_pipeline,
    schedule: fromJson(row.schedule),
    enabled: row.enabled === 1,
    secret: row.secret,
    timeoutSeconds: row.timeout_seconds,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function sqliteTapStore(db: Db): TapStore {
  const select = db.prepare<[string], TapRow>('SELECT * FROM taps WHERE name = ?');
  const insert = db.prepare(`INSERT INTO taps (name, description, kind, script, target_pipeline,
      schedule, enabled, secret, timeout_seconds, version, created_at, updated_at)
    VALUES (@name, @description, @kind, @script, @targetPipeline, @schedule, @enabled, @secret,
      @timeoutSeconds, @version, @at, @at)`);
  const update = db.prepare(`UPDATE taps SET description = @description, kind = @kind,
      script = @script, target_pipeline = @targetPipeline, schedule = @schedule,
      enabled = @enabled, secret = @secret, timeout_seconds = @timeoutSeconds,
      version = @version, updated_at = @at
    WHERE name = @name`);
  const insertVersion = db.prepare(
    'INSERT INTO tap_versions (tap, version, script, created_at) VALUES (?, ?, ?, ?)',
  );

  const row = (spec: TapSpec, version: number, at: string) => ({
    ...spec,
    schedule: spec.schedule === null ? null : toJson(spec.schedule),
    enabled: spec.enabled ? 1 : 0,
    version,
    at,
  });

  const create = db.transaction((spec: TapSpec): Tap | undefined => {
    if (select.get(spec.name)) return undefined;
    const at = now();
    insert.run(row(spec, 1, at));
    insertVersion.run(spec.name, 1, spec.script, at);
    return toTap(select.get(spec.name)!);
  });

  const put = db.transaction((spec: TapSpec) => {
    const existing = select.get(spec.name);
    if (!existing) return { tap: create(spec)!, created: true };
    const at = now();
    const changed = existing.script !== spec.script;
    const version = changed ? existing.version + 1 : existing.version;
    update.run(row(spec, version, at));
    if (changed) insertVersion.run(spec.name, version, spec.script, at);
    return { tap: toTap(select.get(spec.name)!), created: false };
  });

  return {
    async list() {
      return db.prepare<[], TapRow>('SELECT * FROM taps ORDER BY name').all().map(toTap);
    },
    async get(name) {
      const found = select.get(name);
      return found ? toTap(found) : undefined;
    },
    async create(spec) {
      return create.immediate(spec);
    },
    async put(spec) {
      return put.immediate(spec);
    },
    async delete(name) {
      // Versions, runs and state go with the tap through ON DELETE CASCADE.
      return db.prepare('DELETE FROM taps WHERE name = ?').run(name).changes > 0;
    },
    async versions(name) {
      return db
        .prepare<[string], { tap: string; version: number; script: string; created_at: string }>(
          'SELECT * FROM tap_versions WHERE tap = ? ORDER BY version DESC',
        )
        .all(name)
        .map((v): TapVersion => ({
          tap: v.tap,
          version: v.version,
          script: v.script,
          createdAt: v.created_at,
        }));
    },
    async targeting(pipeline) {
      return db
        .prepare<[string], string>('SELECT name FROM taps WHERE target_pipeline = ? ORDER BY name')
        .pluck()
        .all(pipeline);
    },
  };
}
