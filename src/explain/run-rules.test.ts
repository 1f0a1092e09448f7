import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFailedMessage } from '../runner/failure-messages.js';
import { explainRun, needsExplanation } from './explain.js';
import { runFacts, rulesText } from './fixtures/run-facts.js';
import { runTap, type TapRunOptions } from './fixtures/tap-run.js';
import { startSource, type Source } from './fixtures/source-server.js';
import { explainRunByRules } from './run-rules.js';

const noModel = { budgetMs: 15_000 };
const keepAll = (text: string) => text;

let source: Source;
beforeAll(async () => {
  source = await startSource();
});
afterAll(async () => {
  await source.close();
});

// Scripts read the fake source's address from a param, as a tap reads a base URL.
const head = 'import json, os, urllib.request\nBASE = os.environ["TAP_PARAM_base_url"]\n';
const withRequests = 'import os, requests\nBASE = os.environ["TAP_PARAM_base_url"]\n';

interface Case {
  name: string;
  script: () => string;
  params?: () => Record<string, string>;
  secret?: string;
  /** The secret's fields as the script gets them; a secret holding SHOP_TOKEN unless given. */
  secretEnv?: Record<string, string>;
  limits?: TapRunOptions['limits'];
  testLimit?: number;
  tapTimeoutSeconds?: number;
  mode?: 'run' | 'test';
  cause: string;
  /** What the explanation must name. */
  names: (source: Source) => string[];
  /** What it must not say (advice that does not fit this run). */
  absent?: string[];
}

const kib = 1024;
const mib = 1024 * kib;
const noTraceback = ['Read the traceback', 'last frame in tap.py'];

const cases: Case[] = [
  {
    name: 'a module that is not installed',
    script: () =>
      'import pandas\n\ndef fetch():\n    return pandas.read_csv("x.csv").to_dict("records")\n',
    cause: 'missing_module',
    names: () => ["'pandas'", 'TAPLINE_PYTHON', 'pip install pandas', 'standard library'],
  },
  {
    name: 'a submodule import whose pip name differs',
    script: () => 'from bs4 import BeautifulSoup\n\ndef fetch():\n    return []\n',
    cause: 'missing_module',
    names: () => ["'bs4'", 'pip install beautifulsoup4'],
  },
  {
    name: 'a syntax error',
    script: () => 'import json\n\ndef fetch(:\n    return []\n',
    cause: 'syntax_error',
    names: () => ['line 3', 'SyntaxError'],
  },
  {
    name: 'HTTP 401 through requests, with a secret',
    script: () =>
      withRequests +
      'def fetch():\n    r = requests.get(BASE + "/status/401", ' +
      'headers={"Authorization": os.environ["SHOP_TOKEN"]})\n' +
      '    r.raise_for_status()\n    return r.json()["items"]\n',
    params: () => ({ base_url: source.url }),
    secret: 'shop_api',
    cause: 'http_401',
    names: (s) => ['401', `${s.url}/status/401`, "secret 'shop_api'"],
  },
  {
    name: 'HTTP 403 through urllib',
    script: () =>
      head + 'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/status/403"))\n',
    params: () => ({ base_url: source.url }),
    cause: 'http_403',
    names: () => ['403', 'no secret'],
  },
  {
    name: 'HTTP 404 through requests names the URL',
    script: () =>
      withRequests +
      'def fetch():\n    r = requests.get(BASE + "/status/404")\n    r.raise_for_status()\n    return r.json()\n',
    params: () => ({ base_url: source.url }),
    cause: 'http_404',
    names: (s) => ['404', `${s.url}/status/404`],
  },
  {
    name: 'HTTP 429 through urllib',
    script: () =>
      head + 'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/status/429"))\n',
    params: () => ({ base_url: source.url, since: '2026-05-01', until: '2026-05-02' }),
    cause: 'http_429',
    names: () => ['429', 'backoff', 'since, until'],
  },
  {
    name: 'HTTP 500 through urllib',
    script: () =>
      head + 'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/status/500"))\n',
    params: () => ({ base_url: source.url }),
    cause: 'http_5xx',
    names: () => ['HTTP 500', 'Retry later'],
  },
  {
    name: 'HTTP 503 through requests',
    script: () =>
      withRequests +
      'def fetch():\n    r = requests.get(BASE + "/status/503")\n    r.raise_for_status()\n    return r.json()\n',
    params: () => ({ base_url: source.url }),
    cause: 'http_5xx',
    names: () => ['HTTP 503', 'Service Unavailable'],
  },
  {
    name: 'an HTML page where JSON was expected (requests)',
    script: () =>
      withRequests + 'def fetch():\n    return requests.get(BASE + "/html").json()["items"]\n',
    params: () => ({ base_url: source.url }),
    cause: 'json_decode',
    names: () => ['did not send JSON', 'Expecting value'],
  },
  {
    name: 'an HTML page where JSON was expected (urllib + json)',
    script: () =>
      head + 'def fetch():\n    return json.loads(urllib.request.urlopen(BASE + "/html").read())\n',
    params: () => ({ base_url: source.url }),
    cause: 'json_decode',
    names: () => ['did not send JSON'],
  },
  {
    name: 'a host that does not resolve',
    script: () =>
      'import urllib.request\n\ndef fetch():\n' +
      '    return urllib.request.urlopen("http://shop-api.invalid/v1/orders").read()\n',
    cause: 'dns',
    names: () => ['shop-api.invalid', 'DNS'],
  },
  {
    name: 'a refused connection (requests)',
    script: () => withRequests + 'def fetch():\n    return requests.get(BASE + "/orders").json()\n',
    params: () => ({ base_url: `http://127.0.0.1:${source.closedPort}` }),
    cause: 'connection_refused',
    names: (s) => [`127.0.0.1:${s.closedPort}`, 'connection refused'],
  },
  {
    name: 'a refused connection (urllib names no host; the params do)',
    script: () =>
      head + 'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/orders"))\n',
    params: () => ({ base_url: `http://127.0.0.1:${source.closedPort}` }),
    cause: 'connection_refused',
    names: (s) => [`127.0.0.1:${s.closedPort}`],
  },
  {
    name: 'a self-signed certificate',
    script: () =>
      head +
      'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/items"))["items"]\n',
    params: () => ({ base_url: source.tlsUrl }),
    cause: 'tls_certificate',
    names: (s) => ['TLS certificate', new URL(s.tlsUrl).host, 'self-signed', 'SSL_CERT_FILE'],
  },
  {
    name: 'HTTPS spoken to a plain HTTP port',
    script: () =>
      head +
      'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/items"))["items"]\n',
    params: () => ({ base_url: source.url.replace('http:', 'https:') }),
    cause: 'tls',
    names: (s) => ['TLS handshake', new URL(s.url).host],
  },
  {
    name: 'a request timeout of the script',
    script: () =>
      withRequests + 'def fetch():\n    return requests.get(BASE + "/hang", timeout=0.5).json()\n',
    params: () => ({ base_url: source.url }),
    cause: 'request_timeout',
    names: (s) => ['ReadTimeout', new URL(s.url).host],
  },
  {
    name: 'a KeyError while reading the response',
    script: () =>
      head +
      'def fetch():\n    body = json.load(urllib.request.urlopen(BASE + "/shape"))\n    return body["items"]\n',
    params: () => ({ base_url: source.url }),
    cause: 'key_error',
    names: () => ["'items'", 'line 5', '.get('],
  },
  {
    name: "an environment variable the tap's secret has no field for",
    script: () =>
      withRequests +
      'def fetch():\n    token = os.environ["SHOP_TOKEN"]\n' +
      '    return requests.get(BASE + "/items", headers={"Authorization": token}).json()["items"]\n',
    params: () => ({ base_url: source.url }),
    secret: 'shop_api',
    secretEnv: { SHOP_USER: 'ada' },
    cause: 'missing_env',
    names: () => [
      'environment variable SHOP_TOKEN, which is not set',
      'line 4',
      "the secret 'shop_api' has no field SHOP_TOKEN",
      'tapline secret set shop_api SHOP_TOKEN=...',
    ],
    absent: ['from a response', ".get('SHOP_TOKEN')"],
  },
  {
    name: 'an environment variable read by a tap without a secret',
    script: () =>
      'from os import environ\n\ndef fetch():\n    return [{"user": environ["SHOP_USER"]}]\n',
    cause: 'missing_env',
    names: () => [
      'environment variable SHOP_USER',
      'the tap has no secret',
      'tapline secret set NAME SHOP_USER=...',
      'tapline tap update orders --secret NAME',
    ],
    absent: ['from a response'],
  },
  {
    name: 'a param the run was not given',
    script: () => head + 'def fetch():\n    return []\n',
    cause: 'missing_env',
    names: () => [
      'environment variable TAP_PARAM_base_url',
      'not given the param base_url',
      'tapline tap test orders --param base_url=...',
      'os.environ.get("TAP_PARAM_base_url")',
    ],
    absent: ['from a response', 'secret'],
  },
  {
    name: 'a None where the script expected an object',
    script: () =>
      head +
      'def fetch():\n    body = json.load(urllib.request.urlopen(BASE + "/nulls"))\n' +
      '    return [row for row in body["results"]["rows"]]\n',
    params: () => ({ base_url: source.url }),
    cause: 'none_value',
    names: () => ["'rows'", 'None', 'line 5'],
  },
  {
    name: 'a list where the script expected an object',
    script: () =>
      head +
      'def fetch():\n    return json.load(urllib.request.urlopen(BASE + "/list"))["items"]\n',
    params: () => ({ base_url: source.url }),
    cause: 'list_not_object',
    names: () => ['JSON array', 'line 4'],
  },
  {
    name: 'a missing input file',
    script: () =>
      'import csv\n\ndef fetch():\n    return list(csv.DictReader(open("exports/orders.csv")))\n',
    cause: 'file_not_found',
    names: () => ['exports/orders.csv', 'absolute path'],
  },
  {
    name: 'a script without fetch',
    script: () => 'def fetch_orders():\n    return [{"id": 1}]\n',
    cause: 'no_fetch',
    names: () => ['fetch()', 'def fetch():'],
  },
  {
    name: 'zero records while the logs show the source refused',
    script: () =>
      head +
      'def fetch():\n    try:\n        return json.load(urllib.request.urlopen(BASE + "/status/403"))\n' +
      '    except Exception as error:\n        print("request failed:", error)\n        return []\n',
    params: () => ({ base_url: source.url }),
    cause: 'empty_http_403',
    names: () => ['no records', '403', 'may not be empty', 'raise_for_status'],
  },
  {
    name: 'zero records while a quiet script logged the status',
    script: () =>
      withRequests +
      'def fetch():\n    r = requests.get(BASE + "/status/401")\n    print("got status", r.status_code)\n' +
      '    return r.json().get("items", [])\n',
    params: () => ({ base_url: source.url }),
    secret: 'shop_api',
    cause: 'empty_http_401',
    names: () => ['no records', 'HTTP 401', "secret 'shop_api'", 'may not be empty'],
  },
  {
    name: 'zero records for a date window',
    script: () =>
      head +
      'def fetch():\n    since = os.environ["TAP_PARAM_since"]\n' +
      '    return json.load(urllib.request.urlopen(BASE + "/empty?since=" + since))["items"]\n',
    params: () => ({ base_url: source.url, since: '2026-05-02', until: '2026-05-01' }),
    cause: 'empty_window',
    names: () => ['since=2026-05-02', 'until=2026-05-01', 'timezone', 'before the first'],
  },
  {
    name: 'an unexpected exception of the script itself',
    script: () => 'def fetch():\n    total = 0\n    return [{"ratio": 1 / total}]\n',
    cause: 'exception',
    names: () => ['ZeroDivisionError', 'division by zero', 'line 3', 'last frame in tap.py'],
  },
  {
    name: 'an exception raised inside a library, with no frame in tap.py',
    script: () => 'import functools, textwrap\n\nfetch = functools.partial(textwrap.dedent, 5)\n',
    cause: 'exception',
    names: () => ['TypeError', 'names no line of tap.py', 'a library'],
    absent: ['last frame in tap.py'],
  },
  {
    name: 'an exception raised as fetch was called, with no traceback at all',
    script: () => 'import functools\n\nfetch = functools.partial(int, "many")\n',
    cause: 'exception',
    names: () => ['ValueError', "'many'", 'No traceback was printed', 'what fetch is defined as'],
    absent: noTraceback,
  },
  {
    name: 'an exception without a traceback (fetch takes an argument)',
    script: () => 'def fetch(since):\n    return []\n',
    cause: 'fetch_arguments',
    names: () => ["needs 'since'", 'TAP_PARAM_since', 'def fetch(since=None)'],
    absent: noTraceback,
  },
  {
    name: 'a script that calls sys.exit with a code',
    script: () => 'import sys\n\ndef fetch():\n    sys.exit(3)\n',
    cause: 'system_exit',
    names: () => ['exit(3)', 'tap.py line 4', 'no traceback', 'return []'],
    absent: noTraceback,
  },
  {
    name: 'a script that calls sys.exit with a message',
    script: () =>
      'import os, sys\n\nif not os.environ.get("SHOP_TOKEN"):\n' +
      '    sys.exit("no token configured")\n\ndef fetch():\n    return []\n',
    cause: 'system_exit',
    names: () => ["exit('no token configured')", '"no token configured"', 'tap.py line 4'],
    absent: noTraceback,
  },
  {
    name: 'a script that ends its process with os._exit',
    script: () => 'import os\n\ndef fetch():\n    os._exit(4)\n',
    cause: 'exit_code',
    names: () => ['exited with code 4', 'os._exit()', 'tap.py line 4'],
    absent: ['memory', 'killed by a signal'],
  },
  {
    name: 'the test-mode timeout',
    script: () => 'import time\n\ndef fetch():\n    time.sleep(30)\n    return []\n',
    params: () => ({ since: '2026-01-01', until: '2026-05-01' }),
    limits: { timeoutSeconds: 1 },
    cause: 'timeout',
    names: () => [
      'test-mode timeout of 1 s',
      "tap's timeoutSeconds",
      'runner.testTimeoutSeconds',
      'smaller window through params (since, until)',
    ],
  },
  {
    name: 'the run-mode timeout',
    script: () => 'import time\n\ndef fetch():\n    time.sleep(30)\n    yield {"id": 1}\n',
    limits: { timeoutSeconds: 1 },
    mode: 'run',
    cause: 'timeout',
    names: () => ['run-mode timeout of 1 s', 'runner.runTimeoutSeconds'],
  },
  {
    name: "the tap's own timeout",
    script: () => 'import time\n\ndef fetch():\n    time.sleep(30)\n    return []\n',
    params: () => ({ since: '2026-01-01', until: '2026-05-01' }),
    tapTimeoutSeconds: 1,
    cause: 'timeout',
    names: () => [
      "the tap's own timeout of 1 s",
      "raise the tap's timeoutSeconds",
      'smaller window through params (since, until)',
    ],
    absent: ["tapline's test-mode timeout", 'runner.testTimeoutSeconds'],
  },
  {
    name: 'the memory limit',
    script: () =>
      'def fetch():\n    rows = []\n    while True:\n        rows.append("x" * 10_000_000)\n',
    limits: { memoryBytes: 256 * 1024 * 1024 },
    cause: 'memory_limit',
    names: () => ['runner.memoryBytes (256 MiB)', 'Yield records one at a time'],
  },
  {
    name: 'a record over the size limit',
    script: () => 'def fetch():\n    return [{"id": 1, "payload": "x" * 5000}]\n',
    limits: { maxRecordBytes: 1024 },
    cause: 'record_too_large',
    names: () => ['runner.maxRecordBytes (1 KiB)'],
  },
  {
    name: 'the CPU-time limit',
    script: () => 'def fetch():\n    while True:\n        pass\n',
    limits: { cpuSeconds: 1 },
    cause: 'cpu_limit',
    names: () => ['CPU time (1 s', 'runner.cpuSeconds', 'a loop that never ends'],
  },
  {
    name: 'the process limit',
    script: () =>
      'import subprocess, time\n\ndef fetch():\n' +
      '    children = [subprocess.Popen(["sleep", "30"]) for _ in range(30)]\n' +
      '    time.sleep(30)\n',
    limits: { maxProcesses: 10 },
    cause: 'process_limit',
    names: () => ['more than 10 processes', 'runner.maxProcesses', 'bounded pool'],
  },
  {
    name: 'the working-directory limit',
    script: () =>
      'def fetch():\n    with open("dump.json", "wb") as out:\n' +
      '        for _ in range(8):\n            out.write(b"x" * 1024 * 1024)\n    return []\n',
    params: () => ({ since: '2026-01-01', until: '2026-05-01' }),
    limits: { maxWorkdirBytes: 2 * mib },
    cause: 'disk_limit',
    names: () => [
      'more than 2 MiB',
      'runner.maxWorkdirBytes',
      'temporary files',
      'params (since, until)',
    ],
  },
  {
    name: 'the limit on record bytes per run',
    script: () =>
      'def fetch():\n    for n in range(100_000):\n        yield {"id": n, "pad": "x" * 100}\n',
    params: () => ({ since: '2020-01-01', until: '2026-01-01' }),
    limits: { maxRunRecordBytes: 64 * kib },
    mode: 'run',
    cause: 'records_limit',
    names: () => [
      'more than 64 KiB',
      'runner.maxRunRecordBytes',
      'smaller window per run through params (since, until)',
    ],
  },
  {
    name: 'the limit on records a test keeps in memory',
    script: () =>
      'def fetch():\n    for n in range(2000):\n        yield {"id": n, "pad": "x" * 1000}\n',
    testLimit: 0,
    limits: { maxTestRecordBytes: 64 * kib },
    cause: 'test_records_limit',
    names: () => [
      'passed 64 KiB as JSON',
      'runner.maxTestRecordBytes',
      'tapline tap test orders --limit 100',
      'run mode',
    ],
    absent: ['runner.maxRunRecordBytes', 'smaller window'],
  },
  {
    name: 'the limit on printed bytes',
    script: () =>
      'import json\n\ndef fetch():\n    body = {"items": [{"id": n} for n in range(1000)]}\n' +
      '    while True:\n        print(json.dumps(body))\n',
    limits: { maxOutputBytes: 64 * kib },
    cause: 'output_limit',
    names: () => ['more than 64 KiB of logs', 'runner.maxOutputBytes', 'whole responses'],
  },
];

describe('the rules name the cause of real Python failures', () => {
  it.each(cases)('$name', async (c) => {
    const facts = await runTap(c.script(), {
      params: c.params?.(),
      secret: c.secret,
      secretEnv: c.secretEnv ?? (c.secret ? { SHOP_TOKEN: 'Bearer s3cr3t-token' } : {}),
      limits: c.limits,
      testLimit: c.testLimit,
      tapTimeoutSeconds: c.tapTimeoutSeconds,
      mode: c.mode,
    });

    expect(needsExplanation(facts)).toBe(true);
    expect(explainRunByRules(facts)?.cause).toBe(c.cause);
    const explanation = await explainRun(facts, { ai: noModel, mask: keepAll });
    expect(explanation?.source).toBe('rules');
    for (const name of c.names(source)) expect(explanation?.text).toContain(name);
    for (const wrong of c.absent ?? []) expect(explanation?.text).not.toContain(wrong);
  });
});

describe('runs that ended without a Python error', () => {
  it('says when the Python interpreter could not be started', async () => {
    const facts = runFacts({
      failureKind: 'crashed',
      error: startFailedMessage('/opt/nowhere/python3', 'spawn /opt/nowhere/python3 ENOENT'),
    });
    expect(explainRunByRules(facts)?.cause).toBe('python_not_started');
    const text = await rulesText(facts);
    expect(text).toContain("Python interpreter '/opt/nowhere/python3'");
    expect(text).toContain('TAPLINE_PYTHON');
  });

  it('tells a process killed by SIGKILL from one that crashed in native code', async () => {
    const killed = await rulesText(
      runFacts({
        failureKind: 'crashed',
        error: "the script's Python process was killed by SIGKILL before it finished",
      }),
    );
    expect(killed).toContain('killed by SIGKILL');
    expect(killed).toContain('out-of-memory killer');

    const crashed = await rulesText(
      runFacts({
        failureKind: 'crashed',
        error: "the script's Python process was killed by SIGSEGV before it finished",
      }),
    );
    expect(crashed).toContain('native library');
    expect(crashed).not.toContain('memory');
  });
});

describe('runs that succeeded', () => {
  it('gives no explanation for a clean run with records', async () => {
    const facts = await runTap(
      head +
        'def fetch():\n    print("fetching items")\n' +
        '    return json.load(urllib.request.urlopen(BASE + "/items"))["items"]\n',
      { params: { base_url: source.url } },
    );
    expect(facts.recordCount).toBe(2);
    expect(needsExplanation(facts)).toBe(false);
    expect(await explainRun(facts, { ai: noModel, mask: keepAll })).toBeNull();
  });

  it('explains a deprecation warning printed by a successful run', async () => {
    const facts = await runTap(
      'import warnings\n\ndef fetch():\n' +
        '    warnings.warn("the v1 orders endpoint is deprecated; use v2", FutureWarning)\n' +
        '    return [{"id": 1}]\n',
      {},
    );
    expect(facts.recordCount).toBe(1);
    const explanation = await explainRun(facts, { ai: noModel, mask: keepAll });
    expect(explanation?.text).toContain('deprecation warning');
    expect(explanation?.text).toContain('the v1 orders endpoint is deprecated; use v2');
  });

  it('warns that records may be incomplete when the logs show failed requests', async () => {
    const facts = await runTap(
      head +
        'def fetch():\n    try:\n        urllib.request.urlopen(BASE + "/status/500")\n' +
        '    except Exception as error:\n        print("page 2 skipped:", error)\n    return [{"id": 1}]\n',
      { params: { base_url: source.url } },
    );
    const text = (await explainRun(facts, { ai: noModel, mask: keepAll }))?.text;
    expect(text).toContain('returned 1 record,');
    expect(text).toContain('HTTP 500');
    expect(text).toContain('incomplete');
  });

  it('explains an empty run without a window or an error in general terms', async () => {
    const facts = await runTap('def fetch():\n    return []\n', {});
    const text = (await explainRun(facts, { ai: noModel, mask: keepAll }))?.text;
    expect(text).toContain('returned no records');
    expect(text).toContain('fetch() returns or yields');
  });

  it('says an incremental tap found nothing newer than its stored cursor', async () => {
    const facts = runFacts({
      outcome: 'success',
      failureKind: null,
      state: { cursor: '2015-12-31' },
    });
    const text = (await explainRun(facts, { ai: noModel, mask: keepAll }))?.text;
    expect(text).toContain('{"cursor":"2015-12-31"} and found nothing newer');
    expect(text).toContain('GET /api/v1/taps/orders/state');
  });
});
