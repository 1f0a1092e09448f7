// A stand-in for a real REST API: the daily Seattle weather observations (NOAA, 2012-2015, from
// the vega-datasets package) served as paged JSON. The example's taps read it.
//
//   GET /observations?since=2015-01-01&until=2015-02-01&page=1&page_size=100
//     since  first date to include (YYYY-MM-DD, inclusive)
//     until  first date to leave out (YYYY-MM-DD, exclusive)
//   -> {"observations": [...], "page": 1, "pageSize": 100, "total": 31, "nextPage": null}
//
// Run it alone with `node examples/weather/source-api.mjs` (port 8765, or PORT).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const defaultPort = 8765;
const maxPageSize = 500;
const isoDate = /^\d{4}-\d{2}-\d{2}$/;

/** The CSV as objects, numbers as numbers; the file has no quoted fields. */
export function loadObservations() {
  const csvPath = require.resolve('vega-datasets/data/seattle-weather.csv');
  const [header, ...lines] = readFileSync(csvPath, 'utf8').trim().split('\n');
  const columns = header.split(',');
  return lines.map((line) => {
    const values = line.split(',');
    const row = Object.fromEntries(columns.map((column, i) => [column, values[i]]));
    for (const column of ['precipitation', 'temp_max', 'temp_min', 'wind']) {
      row[column] = Number(row[column]);
    }
    return row;
  });
}

function answer(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function handle(observations, request, response) {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (request.method !== 'GET' || url.pathname !== '/observations') {
    return answer(response, 404, { error: 'try GET /observations?since=&until=&page=&page_size=' });
  }
  const since = url.searchParams.get('since') || '';
  const until = url.searchParams.get('until') || '';
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ]) {
    if (value !== '' && !isoDate.test(value)) {
      return answer(response, 400, { error: `${name} must be YYYY-MM-DD, not '${value}'` });
    }
  }
  const page = Number(url.searchParams.get('page') || 1);
  const pageSize = Number(url.searchParams.get('page_size') || 100);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(pageSize) || pageSize < 1) {
    return answer(response, 400, { error: 'page and page_size must be whole numbers from 1' });
  }
  const size = Math.min(pageSize, maxPageSize);

  // ISO dates compare correctly as text.
  const matching = observations.filter(
    (row) => (since === '' || row.date >= since) && (until === '' || row.date < until),
  );
  const start = (page - 1) * size;
  answer(response, 200, {
    observations: matching.slice(start, start + size),
    page,
    pageSize: size,
    total: matching.length,
    nextPage: start + size < matching.length ? page + 1 : null,
  });
}

/** Starts the API; port 0 takes any free port. Resolves to { url, close }. */
export function startSourceApi({ port = defaultPort, host = '127.0.0.1' } = {}) {
  const observations = loadObservations();
  const server = http.createServer((request, response) => handle(observations, request, response));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://${host}:${actual}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = await startSourceApi({ port: Number(process.env.PORT || defaultPort) });
  console.log(`weather source API at ${api.url}/observations (Ctrl-C stops it)`);
}
