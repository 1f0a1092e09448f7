import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScriptRunRequest } from './script-run.js';
import { runScript } from './spawn.js';

const python = process.env.TAPLINE_PYTHON ?? 'python3';
const scratch = mkdtempSync(path.join(tmpdir(), 'tapline-spawn-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(script: string, overrides: Partial<ScriptRunRequest> = {}) {
  return runScript({
    script,
    kind: 'structured',
    mode: 'test',
    params: {},
    state: undefined,
    secretEnv: {},
    testLimit: 20,
    timeoutSeconds: 30,
    python,
    logBytes: 1024 * 1024,
    maxRecordBytes: 16 * 1024 * 1024,
    memoryBytes: 2 * 1024 * 1024 * 1024,
    ...overrides,
  });
}

describe('runScript: what fetch() returns', () => {
  it('takes three dicts with columns in first-seen order', async () => {
    const result = await run(`
def fetch():
    return [
        {"id": 1, "name": "ada"},
        {"id": 2, "city": "Oslo"},
        {"name": "bo", "zip": "0150", "id": 3},
    ]
`);
    expect(result.outcome).toBe('success');
    expect(result.failureKind).toBeNull();
    expect(result.error).toBeNull();
    expect(result.recordCount).toBe(3);
    expect(result.records).toEqual([
      { id: 1, name: 'ada' },
      { id: 2, city: 'Oslo' },
      { name: 'bo', zip: '0150', id: 3 },
    ]);
    expect(result.columns).toEqual(['id', 'name', 'city', 'zip']);
    expect(result.dataType).toBe('json');
    expect(result.recordsTruncated).toBe(false);
    expect(result.newState).toBeUndefined();
  });

  it('stops a ten-million-record generator one record past the test limit', async () => {
    const counterPath = path.join(scratch, 'generator-counter');
    const result = await run(
      `
import os

def fetch():
    for i in range(10_000_000):
        with open(os.environ["TAP_PARAM_counter"], "w") as counter:
            counter.write(str(i + 1))
        yield {"i": i}
`,
      { params: { counter: counterPath }, testLimit: 20 },
    );
    expect(result.outcome).toBe('success');
    expect(result.recordCount).toBe(20);
    expect(result.records).toHaveLength(20);
    expect(result.records[19]).toEqual({ i: 19 });
    expect(result.recordsTruncated).toBe(true);
    // 21 items were produced: 20 records and the one that showed there were more.
    expect(readFileSync(counterPath, 'utf8')).toBe('21');
  });

  it('reads every record with testLimit 0, and says it did not truncate', async () => {
    const result = await run('def fetch():\n    return ({"i": i} for i in range(25))\n', {
      testLimit: 0,
    });
    expect(result.recordCount).toBe(25);
    expect(result.recordsTruncated).toBe(false);
  });

  it('says it truncated a list longer than the limit', async () => {
    const result = await run('def fetch():\n    return [{"i": i} for i in range(5)]\n', {
      testLimit: 3,
    });
    expect(result.records).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    expect(result.recordsTruncated).toBe(true);
  });

  it('takes a single dict as one record', async () => {
    const result = await run('def fetch():\n    return {"temp": 21.5, "city": "Bergen"}\n');
    expect(result.records).toEqual([{ temp: 21.5, city: 'Bergen' }]);
    expect(result.recordCount).toBe(1);
  });

  it('keeps the integer 2033735037361704962 exact', async () => {
    const result = await run('def fetch():\n    return [{"id": 2033735037361704962}]\n');
    expect(result.records).toEqual([{ id: 2033735037361704962n }]);
  });

  it('turns row lists with a header row into csv records keyed by the header', async () => {
    const result = await run(`
def fetch():
    yield ["date", "temp_max", "station"]
    yield ["2026-05-01", 14.2, "OSL"]
    yield ["2026-05-02", 15.0]
`);
    expect(result.outcome).toBe('success');
    expect(result.dataType).toBe('csv');
    expect(result.columns).toEqual(['date', 'temp_max', 'station']);
    expect(result.records).toEqual([
      { date: '2026-05-01', temp_max: 14.2, station: 'OSL' },
      { date: '2026-05-02', temp_max: 15, station: null },
    ]);
    expect(result.recordCount).toBe(2);
  });

  it('fails a row longer than the header', async () => {
    const result = await run('def fetch():\n    return [["a"], [1, 2]]\n');
    expect(result.failureKind).toBe('bad_output');
    expect(result.error).toBe('row 1 has 2 values but the header row has 1 columns');
  });

  it('fails a generator that yields something other than dicts or rows', async () => {
    const result = await run('def fetch():\n    yield {"a": 1}\n    yield "b"\n');
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('bad_output');
    expect(result.error).toContain('fetch() produced a str (record 2)');
  });

  it('takes an empty return as zero records', async () => {
    const result = await run('def fetch():\n    return []\n');
    expect(result.outcome).toBe('success');
    expect(result.recordCount).toBe(0);
    expect(result.dataType).toBeNull();
    expect(result.columns).toEqual([]);
  });
});

describe('runScript: documents', () => {
  it('takes documents with uri, filename and content or text', async () => {
    const result = await run(
      `
def fetch():
    yield {"uri": "s3://b/a.pdf", "filename": "a.pdf", "content": "JVBERi0=",
           "metadata": {"lang": "en"}}
    yield {"uri": "https://x/b.txt", "filename": "b.txt", "text": "hello"}
`,
      { kind: 'document' },
    );
    expect(result.outcome).toBe('success');
    expect(result.dataType).toBe('document');
    expect(result.columns).toEqual(['uri', 'filename', 'content', 'metadata', 'text']);
    expect(result.records[1]).toEqual({ uri: 'https://x/b.txt', filename: 'b.txt', text: 'hello' });
  });

  it('fails a document without a filename, saying what a document needs', async () => {
    const result = await run('def fetch():\n    return [{"uri": "s3://b/a.pdf", "text": "x"}]\n', {
      kind: 'document',
    });
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('bad_output');
    expect(result.error).toMatch(/^document 1 has no filename; a document tap must produce dicts/);
  });
});

describe('runScript: params, state and environment', () => {
  it('passes params as text under TAP_PARAM_ and DATRIS_TAP_PARAM_', async () => {
    const outPath = path.join(scratch, 'params.json');
    const result = await run(
      `
import json, os

def fetch():
    names = ["since", "n", "flag", "opts", "none"]
    seen = {}
    for prefix in ("TAP_PARAM_", "DATRIS_TAP_PARAM_"):
        seen[prefix] = {name: os.environ.get(prefix + name) for name in names}
    seen["opts_loaded"] = json.loads(os.environ["TAP_PARAM_opts"])
    with open(os.environ["TAP_PARAM_out"], "w") as out:
        json.dump(seen, out)
    return []
`,
      {
        params: {
          since: '2026-05-01',
          n: 5,
          flag: true,
          opts: { a: [1, 2] },
          none: null,
          out: outPath,
        },
      },
    );
    expect(result.outcome).toBe('success');
    const expected = { since: '2026-05-01', n: '5', flag: 'true', opts: '{"a":[1,2]}', none: '' };
    expect(JSON.parse(readFileSync(outPath, 'utf8'))).toEqual({
      TAP_PARAM_: expected,
      DATRIS_TAP_PARAM_: expected,
      opts_loaded: { a: [1, 2] },
    });
  });

  it('gives the script its state and takes the TAP_STATE it assigns', async () => {
    const result = await run(
      `
import json, os

def fetch():
    global TAP_STATE
    old = json.loads(os.environ["TAP_STATE"])
    assert json.loads(os.environ["DATRIS_TAP_STATE"]) == old
    TAP_STATE = {"cursor": old["cursor"] + 1, "big": 2033735037361704962}
    return [{"cursor": old["cursor"]}]
`,
      { state: { cursor: 41 } },
    );
    expect(result.outcome).toBe('success');
    expect(result.records).toEqual([{ cursor: 41 }]);
    expect(result.newState).toEqual({ cursor: 42, big: 2033735037361704962n });
  });

  it('takes state from DATRIS_STATE and from the wrapper return', async () => {
    const datris = await run(`
def fetch():
    global DATRIS_STATE
    DATRIS_STATE = {"page": "p2"}
    return [{"a": 1}]
`);
    expect(datris.newState).toEqual({ page: 'p2' });

    const wrapper = await run(`
def fetch():
    return {"records": [{"a": 1}, {"a": 2}], "state": {"since": "2026-05-02"}}
`);
    expect(wrapper.records).toEqual([{ a: 1 }, { a: 2 }]);
    expect(wrapper.columns).toEqual(['a']);
    expect(wrapper.newState).toEqual({ since: '2026-05-02' });
  });

  it('leaves TAP_STATE unset when there is no state, and newState undefined', async () => {
    const result = await run(`
import os

def fetch():
    return [{"has_state": "TAP_STATE" in os.environ or "DATRIS_TAP_STATE" in os.environ}]
`);
    expect(result.records).toEqual([{ has_state: false }]);
    expect(result.newState).toBeUndefined();
  });

  it('sets TAP_TEST_LIMIT only in test mode', async () => {
    const script = `
import os

def fetch():
    return [{"limit": os.environ.get("TAP_TEST_LIMIT"),
             "datris": os.environ.get("DATRIS_TAP_TEST_LIMIT")}]
`;
    const test = await run(script, { testLimit: 7 });
    expect(test.records).toEqual([{ limit: '7', datris: '7' }]);
    const staged = path.join(scratch, 'limit.ndjson');
    const runMode = await run(script, { mode: 'run', stagingPath: staged });
    expect(readFileSync(staged, 'utf8')).toBe('{"limit":null,"datris":null}\n');
    expect(runMode.records).toEqual([]);
  });

  it('hides the server environment except the allow-list, and adds secret fields', async () => {
    process.env.TAPLINE_API_KEY = 'server-key-must-not-leak';
    process.env.TZ_NOT_ALLOWED = 'x';
    process.env.LC_TAPLINE_TEST = 'copied';
    try {
      const result = await run(
        `
import os

def fetch():
    return [{"api_key": os.environ.get("TAPLINE_API_KEY"),
             "tz_not_allowed": os.environ.get("TZ_NOT_ALLOWED"),
             "lc": os.environ.get("LC_TAPLINE_TEST"),
             "token": os.environ.get("API_TOKEN"),
             "has_path": "PATH" in os.environ}]
`,
        { secretEnv: { API_TOKEN: 's3cr3t' } },
      );
      expect(result.records).toEqual([
        { api_key: null, tz_not_allowed: null, lc: 'copied', token: 's3cr3t', has_path: true },
      ]);
    } finally {
      delete process.env.TAPLINE_API_KEY;
      delete process.env.TZ_NOT_ALLOWED;
      delete process.env.LC_TAPLINE_TEST;
    }
  });

  it('runs in a fresh working directory that is removed afterwards', async () => {
    const result = await run(`
import os

def fetch():
    return [{"cwd": os.getcwd(), "files": sorted(os.listdir("."))}]
`);
    const cwd = result.records[0]!.cwd as string;
    expect(result.records[0]!.files).toEqual(['tap.py']);
    expect(path.basename(cwd)).toMatch(new RegExp(`^tapline-run-${process.pid}-`));
    expect(existsSync(cwd)).toBe(false);
  });
});

describe('runScript: logs and errors', () => {
  it('puts print() output in the logs, interleaved with stderr, and never in records', async () => {
    const result = await run(`
import sys

print("starting")

def fetch():
    print("fetching page 1")
    print("a warning", file=sys.stderr)
    print('{"looks": "like a record"}')
    return [{"a": 1}]
`);
    expect(result.outcome).toBe('success');
    expect(result.records).toEqual([{ a: 1 }]);
    expect(result.recordCount).toBe(1);
    expect(result.logs).toBe('starting\nfetching page 1\na warning\n{"looks": "like a record"}\n');
  });

  it('reports an exception with its type, message and the script frames', async () => {
    const result = await run(`
def fetch():
    return load()

def load():
    raise ValueError("upstream said 503")
`);
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('exception');
    // Python 3.11+ adds ^^^ marker lines under some frames; 3.10 and older do not.
    const withoutMarkers = result.error!.split('\n').filter((line) => !/^\s*[~^]+\s*$/.test(line));
    expect(withoutMarkers.join('\n')).toBe(
      [
        'ValueError: upstream said 503',
        'Traceback (most recent call last):',
        '  File "tap.py", line 3, in fetch',
        '    return load()',
        '  File "tap.py", line 6, in load',
        '    raise ValueError("upstream said 503")',
      ].join('\n'),
    );
  });

  it("keeps the script's own frame under deep library frames, without the install path", async () => {
    const result = await run(`
import urllib.request
def fetch():
    return urllib.request.urlopen("http://127.0.0.1:1/", timeout=5)
`);
    expect(result.failureKind).toBe('exception');
    const files = result.error!.split('\n').filter((line) => line.startsWith('  File '));
    expect(files[0]).toBe('  File "tap.py", line 4, in fetch');
    expect(files.length).toBe(5);
    for (const file of files.slice(1)) expect(file).toMatch(/^ {2}File "<python>\//);
    expect(result.error).toContain('\n  ...\n');
  });

  it('reports an exception raised while the module loads', async () => {
    const result = await run('import no_such_module_for_tapline\n');
    expect(result.failureKind).toBe('exception');
    expect(result.error).toMatch(
      /^ModuleNotFoundError: No module named 'no_such_module_for_tapline'\n/,
    );
    expect(result.error).toContain('File "tap.py", line 1, in <module>');
    expect(result.error).not.toContain('harness');
  });

  it('keeps the records that came before an exception', async () => {
    const result = await run(`
def fetch():
    yield {"a": 1}
    raise KeyError("b")
`);
    expect(result.failureKind).toBe('exception');
    expect(result.records).toEqual([{ a: 1 }]);
    expect(result.error).toMatch(/^KeyError: 'b'/);
  });

  it('reports a syntax error with its line', async () => {
    const result = await run('import os\n\nx = = 1\n\ndef fetch():\n    return []\n');
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('syntax_error');
    expect(result.error).toBe(
      'SyntaxError: invalid syntax (tap.py, line 3)\n    x = = 1\n        ^',
    );
  });

  it('says the script must define fetch() when it does not', async () => {
    const result = await run('def fetch_records():\n    return []\n');
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('no_fetch');
    expect(result.error).toBe(
      'the script must define fetch(), a function with no arguments that returns or yields records',
    );
  });

  it('reports sys.exit() inside fetch as an exception', async () => {
    const result = await run('import sys\n\ndef fetch():\n    sys.exit(3)\n');
    expect(result.failureKind).toBe('exception');
    expect(result.error).toMatch(
      /^SystemExit: the script called exit\(3\) before fetch\(\) finished/,
    );
  });

  it('reports a Python that cannot start as a failure, not a throw', async () => {
    const result = await run('def fetch():\n    return []\n', {
      python: '/nonexistent/python3',
    });
    expect(result.outcome).toBe('failure');
    expect(result.failureKind).toBe('crashed');
    expect(result.error).toMatch(/^could not start Python '\/nonexistent\/python3': .*ENOENT/);
  });
});
