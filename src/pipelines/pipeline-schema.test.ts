import { describe, expect, it } from 'vitest';
import { TaplineError } from '../errors/catalogue.js';
import { describePipelineError, parsePipeline, pipelineSchema } from './pipeline-schema.js';

const sqlite = { type: 'sqlite', table: 'weather', writeMode: 'append' };

function refusal(input: unknown): string {
  const result = pipelineSchema.safeParse(input);
  if (result.success) throw new Error('expected the pipeline to be refused');
  return describePipelineError(result.error);
}

describe('pipelineSchema', () => {
  it('accepts the DESIGN example and fills defaults', () => {
    const pipeline = pipelineSchema.parse({
      name: 'weather_daily',
      primaryKey: ['date'],
      schema: [
        { name: 'date', type: 'date' },
        { name: 'temp_max', type: 'number' },
      ],
      quality: [{ field: 'date', check: 'required', onFailure: 'reject' }],
      transform: { rename: { temp_max: 'max_temp_c' }, drop: [], trimStrings: true },
      destinations: [{ type: 'sqlite', table: 'weather', writeMode: 'merge' }],
    });
    expect(pipeline.schemaPolicy).toBe('evolve');
    expect(pipeline.destinations[0]).toEqual({
      type: 'sqlite',
      table: 'weather',
      writeMode: 'merge',
    });
  });

  it('needs only a name and destinations', () => {
    const pipeline = pipelineSchema.parse({ name: 'p', destinations: [sqlite] });
    expect(pipeline.quality).toEqual([]);
    expect(pipeline.description).toBe('');
  });

  it('refuses merge without a primaryKey, naming the write mode', () => {
    const merge = { ...sqlite, writeMode: 'merge' };
    expect(refusal({ name: 'p', destinations: [merge] })).toBe(
      'destinations[0].writeMode: merge needs a primaryKey: set primaryKey to the field(s) ' +
        'that identify a record',
    );
    expect(refusal({ name: 'p', primaryKey: [], destinations: [merge] })).toMatch(
      /^destinations\[0\]\.writeMode: merge needs a primaryKey/,
    );
  });

  it('refuses an unknown type naming the field', () => {
    const input = { name: 'p', schema: [{ name: 'a', type: 'varchar' }], destinations: [sqlite] };
    expect(refusal(input)).toBe(
      'schema[0].type: unknown type; expected one of string, integer, number, decimal, boolean, ' +
        'date, timestamp, json',
    );
  });

  it('refuses duplicate field names', () => {
    const schema = [
      { name: 'a', type: 'string' },
      { name: 'a', type: 'integer' },
    ];
    expect(refusal({ name: 'p', schema, destinations: [sqlite] })).toBe(
      "schema[1].name: duplicate field 'a' (also schema[0])",
    );
  });

  it('refuses declared fields that would share a warehouse column', () => {
    const schema = [
      { name: 'Name', type: 'string' },
      { name: 'name', type: 'string' },
    ];
    expect(refusal({ name: 'p', schema, destinations: [sqlite] })).toBe(
      "schema[1].name: 'Name' and 'name' both become column 'name'",
    );
  });

  it('refuses an unknown destination type', () => {
    expect(refusal({ name: 'p', destinations: [{ type: 'kafka', topic: 't' }] })).toBe(
      'destinations[0].type: unknown destination type; expected sqlite, file or webhook',
    );
  });

  it('refuses bad and reserved table names', () => {
    expect(refusal({ name: 'p', destinations: [{ ...sqlite, table: 'my table;' }] })).toBe(
      'destinations[0].table: a table name is a letter or _ then up to 62 of [A-Za-z0-9_]',
    );
    expect(refusal({ name: 'p', destinations: [{ ...sqlite, table: '_tapline_loads' }] })).toBe(
      'destinations[0].table: names starting sqlite_ or _tapline are reserved',
    );
  });

  it('refuses a primaryKey outside the declared schema', () => {
    const input = {
      name: 'p',
      primaryKey: ['id'],
      schema: [{ name: 'key', type: 'integer' }],
      destinations: [sqlite],
    };
    expect(refusal(input)).toBe("primaryKey[0]: 'id' is not a field of the schema");
  });

  it('refuses a second sqlite destination in the same warehouse file', () => {
    const second = { type: 'sqlite', table: 'other', path: './warehouse.db' };
    expect(refusal({ name: 'p', destinations: [sqlite, second] })).toBe(
      'destinations[1].path: destinations[0] already loads warehouse.db; one pipeline loads one ' +
        'table per warehouse file: set path to another file',
    );
  });

  it('refuses a pattern that does not compile', () => {
    const quality = [{ field: 'a', check: 'pattern', pattern: '([a-z' }];
    expect(refusal({ name: 'p', quality, destinations: [sqlite] })).toMatch(
      /^quality\[0\]\.pattern: not RE2 syntax \(missing closing \]: `\[a-z`\); patterns must/,
    );
  });

  it('refuses a backreference, which RE2 cannot match in linear time, saying why', () => {
    const quality = [
      { field: 'a', check: 'required' },
      { field: 'b', check: 'pattern', pattern: '^(\\w+) \\1$' },
    ];
    expect(refusal({ name: 'p', quality, destinations: [sqlite] })).toBe(
      'quality[1].pattern: not RE2 syntax (invalid escape sequence: `\\1`); patterns must be RE2 ' +
        'regular expressions, which match in time linear in the value, so that one long value ' +
        'cannot stall the server: RE2 has no backreferences (\\1) or lookarounds ((?=, (?!, ' +
        '(?<=, (?<!), and writes \\u00e9 as \\x{e9}',
    );
    const lookahead = [{ field: 'b', check: 'pattern', pattern: 'a(?=b)' }];
    expect(refusal({ name: 'p', quality: lookahead, destinations: [sqlite] })).toMatch(
      /^quality\[0\]\.pattern: not RE2 syntax \(invalid or unsupported Perl syntax: `\(\?=`\)/,
    );
  });

  it("refuses destination paths that go up with .. or reach tapline's own files", () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { ...sqlite, path: '../../../tmp/evil.db' },
        "a path may not contain a '..' segment; write it inside the data directory without " +
          "'..', or as an absolute path",
      ],
      [{ ...sqlite, path: '/data/../etc/w.db' }, "a path may not contain a '..' segment"],
      [
        { ...sqlite, path: 'tapline.db' },
        "'tapline.db' is the name of tapline's metadata database; give the warehouse a file " +
          'name of its own',
      ],
      [{ ...sqlite, path: './tapline.db-wal' }, "'tapline.db-wal' is the name of tapline's"],
      [{ ...sqlite, path: 'tapline.db-shm' }, "'tapline.db-shm' is the name of tapline's"],
      [{ ...sqlite, path: '/srv/tapline/TAPLINE.DB' }, "'TAPLINE.DB' is the name of tapline's"],
      [{ ...sqlite, path: 'secret.key' }, "'secret.key' is the name of tapline's secret key file"],
      [
        { ...sqlite, path: 'staging/w.db' },
        'staging/ holds the records tapline stages for its jobs; choose a path outside it',
      ],
      [{ ...sqlite, path: './staging' }, 'staging/ holds the records tapline stages'],
      [{ type: 'file', path: 'exports/../../out' }, "a path may not contain a '..' segment"],
      [{ type: 'file', path: 'staging/out' }, 'staging/ holds the records tapline stages'],
    ];
    for (const [target, message] of cases) {
      expect(refusal({ name: 'p', destinations: [target] }), String(target.path)).toContain(
        `destinations[0].path: ${message}`,
      );
    }
  });

  it('accepts absolute paths outside the data directory, and names that only look alike', () => {
    const destinations = [
      { ...sqlite, path: '/data/warehouse.db' },
      { ...sqlite, table: 'b', path: 'tapline.db.backup/w.db' },
      { ...sqlite, table: 'c', path: 'exports/staging/w.db' },
      { ...sqlite, table: 'd', path: 'my..db' },
      { type: 'file', path: '/data/exports' },
      { type: 'file', path: 'secret.key.d' },
    ];
    expect(pipelineSchema.safeParse({ name: 'p', destinations }).success).toBe(true);
  });

  it('refuses a bad pipeline name, an empty destination list and unknown keys', () => {
    expect(refusal({ name: '-x', destinations: [sqlite] })).toMatch(/^name: /);
    expect(refusal({ name: 'p', destinations: [] })).toBe(
      'destinations: at least one destination is needed',
    );
    expect(refusal({ name: 'p', primarykey: ['id'], destinations: [sqlite] })).toMatch(
      /primarykey/,
    );
  });

  it('refuses merge on file destinations and non-http webhooks', () => {
    const file = { type: 'file', path: 'out', format: 'csv', writeMode: 'merge' };
    expect(refusal({ name: 'p', destinations: [file] })).toBe(
      'destinations[0].writeMode: file destinations support append (a file per job) or replace',
    );
    const hook = { type: 'webhook', url: 'ftp://example.com/x' };
    expect(refusal({ name: 'p', destinations: [hook] })).toBe(
      'destinations[0].url: expected an http:// or https:// URL',
    );
  });

  it('parsePipeline throws validation_failed with every problem on one line', () => {
    try {
      parsePipeline({ name: 'p', schema: [{ name: 'a', type: 'x' }], destinations: [] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(TaplineError);
      expect((error as TaplineError).code).toBe('validation_failed');
      expect((error as TaplineError).message).toBe(
        'invalid pipeline: schema[0].type: unknown type; expected one of string, integer, ' +
          'number, decimal, boolean, date, timestamp, json; destinations: at least one ' +
          'destination is needed',
      );
    }
  });
});
