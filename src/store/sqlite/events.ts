import type { EventStore, StatusEvent } from '../store.js';
import type { Db } from './database.js';

interface EventRow {
  id: number;
  date_time: string;
  epoch: number;
  pipeline: string;
  process_name: string;
  publisher_token: string;
  pipeline_token: string;
  filename: string;
  state: StatusEvent['state'];
  code: StatusEvent['code'];
  description: string;
}

function toEvent(row: EventRow): StatusEvent {
  return {
    id: row.id,
    dateTime: row.date_time,
    epoch: row.epoch,
    pipeline: row.pipeline,
    processName: row.process_name,
    publisherToken: row.publisher_token,
    pipelineToken: row.pipeline_token,
    filename: row.filename,
    state: row.state,
    code: row.code,
    description: row.description,
  };
}

export function sqliteEventStore(db: Db): EventStore {
  const insert = db.prepare(`INSERT INTO status_events (date_time, epoch, pipeline, process_name,
      publisher_token, pipeline_token, filename, state, code, description)
    VALUES (@dateTime, @epoch, @pipeline, @processName, @publisherToken, @pipelineToken,
      @filename, @state, @code, @description)`);
  return {
    async append(event) {
      const dateTime = new Date(event.epoch).toISOString();
      const id = Number(insert.run({ ...event, dateTime }).lastInsertRowid);
      return { ...event, id, dateTime };
    },
    async forPublisher(publisherToken) {
      return db
        .prepare<[string], EventRow>(
          'SELECT * FROM status_events WHERE publisher_token = ? ORDER BY id',
        )
        .all(publisherToken)
        .map(toEvent);
    },
    async forPipelineTokens(pipelineTokens) {
      if (pipelineTokens.length === 0) return [];
      const placeholders = pipelineTokens.map(() => '?').join(', ');
      return db
        .prepare<string[], EventRow>(
          `SELECT * FROM status_events WHERE pipeline_token IN (${placeholders}) ORDER BY id`,
        )
        .all(...pipelineTokens)
        .map(toEvent);
    },
  };
}
