// The example end to end: real daily weather from a small source API, through a Python tap,
// into tapline's embedded SQLite warehouse. Run it after `npm run build` with `npm run example`.
//
// It starts the source API and a tapline server (fresh data directory, free ports), saves the
// pipeline and the taps, tests, runs, waits for the loads, shows the table, and stops both.
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { startSourceApi } from './source-api.mjs';
import { taplineApi } from './tapline-api.mjs';
import { startTapline } from './tapline-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const read = (file) => readFileSync(path.join(here, file), 'utf8');

const started = [];
async function stopAll() {
  while (started.length > 0) await started.pop()();
}

let interrupted = false;
process.once('SIGINT', async () => {
  interrupted = true;
  console.error('\ninterrupted; stopping what the example started');
  await stopAll();
  process.exit(130);
});

function step(text) {
  console.log(`\n== ${text}`);
}

/** Rows as aligned columns: enough for a glance at the table. */
function printRows(rows) {
  const columns = Object.keys(rows[0] ?? {});
  const text = (value) => (value === null || value === undefined ? '' : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (values) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(`   ${line(columns)}`);
  for (const row of rows) console.log(`   ${line(columns.map((c) => text(row[c])))}`);
}

async function loadAndReport(tapline, answer) {
  if (answer.status !== 'success' || !answer.persisted) {
    throw new Error(
      `the run did not load: ${answer.persistedReason ?? answer.status}\n${answer.error ?? answer.logs}`,
    );
  }
  const rollup = await tapline.waitForLoad(answer.publisherToken);
  for (const job of rollup.jobs) {
    console.log(
      `   job ${job.pipelineToken.slice(0, 8)}: ${job.status}, ${job.recordCount} records`,
    );
  }
  if (rollup.status !== 'success' && rollup.status !== 'warning') {
    const why = rollup.jobs
      .map((job) => job.lastError?.description)
      .filter(Boolean)
      .join('; ');
    throw new Error(`the load ended in ${rollup.status}: ${why}`);
  }
  return rollup;
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tapline-example-'));

  step('starting the weather source API and a tapline server');
  const source = await startSourceApi({ port: 0 });
  started.push(source.close);
  console.log(`   source API: ${source.url}/observations (Seattle, 2012-01-01 to 2015-12-31)`);
  const server = await startTapline({ dataDir });
  started.push(server.stop);
  console.log(`   tapline:    ${server.url} (data in ${dataDir})`);
  const tapline = taplineApi(server.url);

  step("saving pipeline 'weather' and taps 'weather' and 'weather-incremental'");
  const pipeline = JSON.parse(read('pipeline.json'));
  await tapline.savePipeline(pipeline);
  await tapline.saveTap({
    name: 'weather',
    description: 'Daily Seattle weather from the example source API',
    script: read('tap.py'),
    targetPipeline: 'weather',
  });
  await tapline.saveTap({
    name: 'weather-incremental',
    description: 'Daily Seattle weather, only the days after the stored cursor',
    script: read('tap-incremental.py'),
    targetPipeline: 'weather',
  });
  // The source listens on a free port, so every run tells the taps where it is.
  const params = { source_url: source.url };

  step('test: run the tap and look at 5 records, storing nothing');
  const test = await tapline.runTap({ name: 'weather', mode: 'test', params, testLimit: 5 });
  if (test.status !== 'success') throw new Error(`the test failed: ${test.error}`);
  printRows(test.records);
  console.log(
    `   ${test.recordCount} records (more: ${test.recordsTruncated}), columns: ${test.columns.join(', ')}`,
  );

  step('run: fetch every day and load it into the warehouse');
  const run = await tapline.runTap({ name: 'weather', mode: 'run', params });
  console.log(
    `   fetched ${run.recordCount} records in ${run.durationMs} ms; publisherToken ${run.publisherToken}`,
  );
  await loadAndReport(tapline, run);

  const warehousePath = path.join(dataDir, 'warehouse.db');
  const warehouse = new Database(warehousePath, { readonly: true });
  const count = () => warehouse.prepare('SELECT count(*) AS n FROM weather').get().n;
  console.log(`   ${count()} rows loaded into table weather`);

  step('backfill: January 2015 again (since=2015-01-01, until=2015-02-01), merged on date');
  const backfill = await tapline.runTap({
    name: 'weather',
    mode: 'run',
    params: { ...params, since: '2015-01-01', until: '2015-02-01' },
  });
  const backfillRollup = await loadAndReport(tapline, backfill);
  const loaded = backfillRollup.jobs.reduce((sum, job) => sum + job.recordCount, 0);
  console.log(`   ${loaded} days loaded; the table still has ${count()} rows`);

  step('incremental: a tap that keeps its cursor in state');
  // Runs with params keep the stored state unless asked; this one must move its cursor.
  const first = await tapline.runTap({
    name: 'weather-incremental',
    mode: 'run',
    params,
    updateState: true,
  });
  await loadAndReport(tapline, first);
  await tapline.waitForStateCommit(first.runId);
  const { state } = await tapline.state('weather-incremental');
  console.log(`   first run: ${first.recordCount} records; cursor now ${JSON.stringify(state)}`);
  const second = await tapline.runTap({
    name: 'weather-incremental',
    mode: 'run',
    params,
    updateState: true,
  });
  console.log(
    `   second run: ${second.recordCount} records, persisted: ${second.persisted} ` +
      `(${second.persistedReason ?? 'loaded'})`,
  );
  if (second.persistedReason !== 'no_records')
    throw new Error('the second run should find nothing new');

  step('the first rows of table weather');
  printRows(warehouse.prepare('SELECT * FROM weather ORDER BY date LIMIT 5').all());
  console.log(`\n${count()} rows loaded. The warehouse is the SQLite file ${warehousePath}`);
  console.log(
    `   look inside: sqlite3 ${warehousePath} 'SELECT weather, count(*) FROM weather GROUP BY 1'`,
  );
  warehouse.close();
}

try {
  await main();
  await stopAll();
  console.log('\nstopped the source API and the tapline server; the data directory is kept.');
} catch (error) {
  // After Ctrl-C the steps still running fail as the servers stop; that is no news.
  if (!interrupted)
    console.error(`\nexample failed: ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exitCode = 1;
}
