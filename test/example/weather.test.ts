import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliServer, runCli, startCliServer } from '../cli/cli-process.js';

const root = path.resolve(import.meta.dirname, '../..');

interface ExampleResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run example` without npm's own output: the same script, as a child process. */
function runExample(): Promise<ExampleResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith('TAPLINE_')) delete env[name];
    execFile(
      process.execPath,
      [path.join(root, 'examples/weather/run-example.mjs')],
      { cwd: root, env, timeout: 90_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? -1) : 0, stdout, stderr });
      },
    );
  });
}

let example: ExampleResult;
let dataDir: string;

beforeAll(async () => {
  example = await runExample();
  if (example.code !== 0)
    throw new Error(`the example failed:\n${example.stdout}\n${example.stderr}`);
  dataDir = /data in (\S+)\)/.exec(example.stdout)?.[1] ?? '';
}, 90_000);

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the weather example', () => {
  it('loads all 1,461 days and shows the first rows of the table', () => {
    expect(example.stdout).toContain('   1461 rows loaded into table weather\n');
    expect(example.stdout).toContain(
      [
        '   date        precipitation  temp_max  temp_min  wind  weather',
        '   2012-01-01  0              12.8      5         4.7   drizzle',
        '   2012-01-02  10.9           10.6      2.8       4.5   rain',
      ].join('\n'),
    );
    expect(example.stdout).toContain(`The warehouse is the SQLite file ${dataDir}/warehouse.db`);
    expect(example.stdout).toContain('stopped the source API and the tapline server');
  });

  it('leaves a warehouse holding every day once, with the values of the source', () => {
    const warehouse = new Database(path.join(dataDir, 'warehouse.db'), { readonly: true });
    try {
      const count = warehouse.prepare(
        'SELECT count(*) AS n, count(DISTINCT date) AS days FROM weather',
      );
      expect(count.get()).toEqual({ n: 1461, days: 1461 });
      const range = warehouse.prepare('SELECT min(date) AS first, max(date) AS last FROM weather');
      expect(range.get()).toEqual({ first: '2012-01-01', last: '2015-12-31' });
      const day = warehouse.prepare('SELECT * FROM weather WHERE date = ?').get('2015-01-15');
      expect(day).toEqual({
        date: '2015-01-15',
        precipitation: 9.7,
        temp_max: 7.8,
        temp_min: 1.1,
        wind: 3.2,
        weather: 'rain',
      });
    } finally {
      warehouse.close();
    }
  });

  describe('its run history, read back from a server on the same data directory', () => {
    let server: CliServer;
    beforeAll(async () => {
      server = await startCliServer({ dataDir });
    });
    afterAll(async () => {
      await server?.stop();
    });

    it('loaded exactly the 31 days of January 2015 in the since/until run, and kept 1,461 rows', async () => {
      expect(example.stdout).toContain('   31 days loaded; the table still has 1461 rows\n');
      const runs = JSON.parse(
        (await runCli(['tap', 'runs', 'weather', '--json', '--url', server.url])).stdout,
      );
      const backfill = runs.find((run: { params: { since?: string } }) => run.params.since);
      expect(backfill).toMatchObject({
        mode: 'run',
        status: 'success',
        recordCount: 31,
        persisted: true,
        params: { since: '2015-01-01', until: '2015-02-01' },
      });
      const response = await fetch(`${server.url}/api/v1/runs/${backfill.runId}`);
      const run = (await response.json()) as { rollup: { jobs: { recordCount: number }[] } };
      expect(run.rollup).toMatchObject({ status: 'success', allDone: true, jobCount: 1 });
      expect(run.rollup.jobs[0]?.recordCount).toBe(31);
    });

    it('the incremental tap kept its cursor, and its second run reported no_records', async () => {
      expect(example.stdout).toContain('second run: 0 records, persisted: false (no_records)');
      const state = await runCli([
        'tap',
        'state',
        'weather-incremental',
        '--json',
        '--url',
        server.url,
      ]);
      expect(JSON.parse(state.stdout).state).toEqual({ last_date: '2015-12-31' });
      const runs = JSON.parse(
        (await runCli(['tap', 'runs', 'weather-incremental', '--json', '--url', server.url]))
          .stdout,
      );
      expect(
        runs.map((run: { status: string; recordCount: number }) => [run.status, run.recordCount]),
      ).toEqual([
        ['no_records', 0],
        ['success', 1461],
      ]);
      expect(runs[0]).toMatchObject({ persisted: false, persistedReason: 'no_records' });
    });
  });
});
