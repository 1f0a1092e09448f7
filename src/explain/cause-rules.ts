/**
 * The causes the rules know, as one table tried in order: first match wins. Each rule names the
 * cause with the clue it found (module, status, host, field, limit) and the next step, in one
 * short paragraph. `run-rules.ts` decides which text to search and how to frame the answer.
 * The runs tapline did not start come first (`start-rules.ts`), then its limits
 * (`limit-rules.ts`), then what the script's own error and logs show, the network's causes
 * (`network-rules.ts`) among them.
 */
import { quote, scriptFrame, scriptLines } from './clues.js';
import {
  at,
  both,
  type CauseRule,
  either,
  kind,
  regex,
  type RuleAnswer,
  type Scene,
} from './cause-rule.js';
import type { RunFacts } from './facts.js';
import { limitRules } from './limit-rules.js';
import { networkRules } from './network-rules.js';
import { startRules } from './start-rules.js';

// Import names whose pip package has another name; the common cases in fetch scripts.
const pipNames: Record<string, string> = {
  yaml: 'PyYAML',
  bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil',
  dotenv: 'python-dotenv',
  PIL: 'Pillow',
  sklearn: 'scikit-learn',
  jwt: 'PyJWT',
  psycopg2: 'psycopg2-binary',
};

/** "tap.py line 4" or "tap.py lines 4, 9" where the script calls exit, or nothing. */
function exitCalls(script: string): string {
  const lines = scriptLines(script, /\b(?:sys\.exit|exit|quit|os\._exit)\s*\(|\bSystemExit\b/);
  if (lines.length === 0) return '';
  return ` (tap.py line${lines.length > 1 ? 's' : ''} ${lines.slice(0, 5).join(', ')})`;
}

/**
 * A KeyError raised by os.environ[...]: the traceback ends in os's __getitem__, or the script's
 * line reads environ[...]. The captures are the KeyError line and the variable's name.
 */
function missingEnvironmentVariable({ text }: Scene): string[] | null {
  const found = /^(?:builtins\.)?KeyError: '([A-Za-z_][A-Za-z0-9_]*)'$/m.exec(text);
  if (!found) return null;
  const inOs = /File "(?:<frozen os>|[^"\n]*[\\/]os\.py)", line \d+, in __getitem__/.test(text);
  const code = scriptFrame(text)?.code ?? '';
  return inOs || /\benviron\s*\[/.test(code) ? [found[0], found[1] ?? ''] : null;
}

/** Why tapline left the variable unset, and how to set it or do without it. */
function whyUnset(variable: string, get: string, facts: RunFacts): string {
  const param = /^(?:DATRIS_)?TAP_PARAM_(\w+)$/.exec(variable)?.[1];
  if (param !== undefined) {
    return (
      `Each param of a run arrives as TAP_PARAM_<key>, and this run was not given the param ` +
      `${param}: pass it (tapline tap ${facts.mode} ${facts.tap.name} --param ${param}=..., ` +
      `or "params" in the request), or read it with ${get} and a default where it is optional.`
    );
  }
  if (/^(?:DATRIS_)?TAP_STATE$/.test(variable)) {
    return (
      `tapline sets ${variable} only when the tap has a stored state, so a first run (or one ` +
      `after a reset) has none: read it with json.loads(${get} or "{}").`
    );
  }
  if (/^(?:DATRIS_)?TAP_TEST_LIMIT$/.test(variable)) {
    return (
      `tapline sets ${variable} only in test mode with a limit: read it with ${get} and ` +
      `treat its absence as "no limit".`
    );
  }
  const secret = facts.tap.secret;
  if (secret) {
    return (
      `A tap's secret fields arrive as environment variables under their own names, and the ` +
      `secret '${secret}' has no field ${variable}. Add it: tapline secret set ${secret} ` +
      `${variable}=... with the secret's other fields too (set replaces the whole secret; ` +
      `tapline secret list shows its fields), or fix the name in the script if the field is ` +
      `spelled differently.`
    );
  }
  return (
    `Scripts do not see the server's environment (only PATH, HOME, LANG, TZ and the proxy and ` +
    `CA variables pass through), and the tap has no secret. If ${variable} holds a credential ` +
    `or setting, store it in a secret (tapline secret set NAME ${variable}=...) and give the ` +
    `tap that secret (tapline tap update ${facts.tap.name} --secret NAME).`
  );
}

export const causeRules: CauseRule[] = [
  ...startRules,
  {
    cause: 'no_fetch',
    match: either(kind('no_fetch'), regex(/has no attribute 'fetch'|does not define fetch/)),
    say: () =>
      `The script does not define fetch(). tapline calls a module-level function named fetch ` +
      `with no arguments: add "def fetch():" that returns or yields the records, and check its ` +
      `spelling and that it is not indented inside another block.`,
  },
  {
    cause: 'fetch_arguments',
    match: (scene) =>
      scriptFrame(scene.text)
        ? null
        : regex(/\bfetch\(\) missing \d+ required [\w -]{0,40}?arguments?: ([^\n]+)/)(scene),
    say: ([, missing]) => {
      const first = /'(\w+)'/.exec(missing ?? '')?.[1] ?? 'since';
      return (
        `tapline calls fetch() with no arguments, but the script's fetch needs ` +
        `${quote(missing ?? '', 120)}. Per-run values arrive as params in environment ` +
        `variables: read them inside fetch() (e.g. os.environ.get("TAP_PARAM_${first}") for ` +
        `the param ${first}), or give each argument a default ` +
        `(def fetch(${first}=None)).`
      );
    },
  },
  ...limitRules,
  {
    cause: 'aborted',
    match: kind('aborted'),
    say: () =>
      `The run was stopped before it finished because tapline was shutting down or the run was ` +
      `cancelled; nothing is wrong with the script as far as this run shows. Run it again.`,
  },
  {
    cause: 'syntax_error',
    match: either(
      regex(/((?:SyntaxError|IndentationError|TabError): [^\n]*?)(?: \([^)]*, line (\d+)\))?$/m),
      kind('syntax_error'),
    ),
    say: ([, message, line], { text }) => {
      const lineNo = line || /line (\d+)/.exec(text)?.[1];
      const where = lineNo ? ` on line ${lineNo}` : '';
      return (
        `Python could not read the script: ${quote(message || text)}${where}. Fix that line, ` +
        `and look at the line before it too (an unclosed bracket or quote is often reported one ` +
        `line late).`
      );
    },
  },
  {
    cause: 'missing_module',
    match: regex(/No module named '([^']+)'/),
    say: ([, module]) => {
      const top = (module ?? '').split('.')[0] ?? '';
      const pip = pipNames[top] ?? top;
      return (
        `The script imports '${module}', which is not installed in the Python tapline runs taps ` +
        `with (TAPLINE_PYTHON or runner.python; python3 by default). Install it into that ` +
        `interpreter ("python3 -m pip install ${pip}"), point TAPLINE_PYTHON at a virtualenv ` +
        `that has it, or use the standard library instead (urllib.request and json cover most ` +
        `HTTP APIs).`
      );
    },
  },
  {
    cause: 'import_name',
    match: regex(/cannot import name '([^']+)' from '([^']+)'/),
    say: ([, name, module]) =>
      `The installed version of '${module}' has no '${name}': the script was written for ` +
      `another version. Install the version the script expects into the Python tapline uses ` +
      `(TAPLINE_PYTHON), or change the import to match the installed one.`,
  },
  ...networkRules,
  {
    cause: 'json_decode',
    match: regex(
      new RegExp(
        `(${[
          'JSONDecodeError[^\\n]*',
          'Expecting value: line \\d+ column \\d+[^\\n]*',
          'Unterminated string starting at[^\\n]*',
          'Extra data: line \\d+[^\\n]*',
        ].join('|')})`,
      ),
    ),
    say: ([detail]) =>
      `The source did not send JSON (${quote(detail ?? '', 100)}): the body was probably an ` +
      `HTML error page, an empty answer or another format. Check the response's status and ` +
      `Content-Type before parsing, and log the first characters of the body to see what ` +
      `came back.`,
  },
  {
    cause: 'missing_env',
    match: missingEnvironmentVariable,
    say: ([, name], scene) => {
      const variable = name ?? '';
      const read =
        `The script reads the environment variable ${variable}, which is not set in this run ` +
        `(KeyError${at(scene)}).`;
      const get = `os.environ.get("${variable}")`;
      return `${read} ${whyUnset(variable, get, scene.facts)}`;
    },
  },
  {
    cause: 'key_error',
    match: regex(/^(?:builtins\.)?KeyError: (.+)$/m),
    say: ([, field], scene) =>
      `The script read the field ${field} from a response that does not have it ` +
      `(KeyError${at(scene)}). The source may have answered with an error body or a ` +
      `different shape: log the response's keys or status, and use .get(${field}) where the ` +
      `field may be missing.`,
  },
  {
    cause: 'none_value',
    match: regex(/'NoneType' object (?:is not (?:subscriptable|iterable)|has no attribute '\w+')/),
    say: ([detail], scene) => {
      const code = scriptFrame(scene.text)?.code ?? '';
      const fields = [...code.matchAll(/\[\s*['"]([^'"]+)['"]\s*\]|\.get\(\s*['"]([^'"]+)['"]/g)]
        .map((found) => `'${found[1] ?? found[2]}'`)
        .filter((field, index, all) => all.indexOf(field) === index);
      const reading = fields.length > 0 ? ` while reading ${fields.join(', ')}` : '';
      return (
        `The script used a value that was None${reading} (TypeError: ${detail}${at(scene)}). ` +
        `A field of the response was null or missing: check it before use, e.g. ` +
        `(item.get("x") or {}), and log what the source returned.`
      );
    },
  },
  {
    cause: 'list_not_object',
    match: regex(/list indices must be integers or slices, not str/),
    say: (_found, scene) =>
      `The script read a field by name from a list (TypeError${at(scene)}): the response is a ` +
      `JSON array where the script expected an object. Loop over the items, or check the ` +
      `API's response shape.`,
  },
  {
    cause: 'string_not_object',
    match: regex(/string indices must be integers/),
    say: (_found, scene) =>
      `The script read a field by name from a string (TypeError${at(scene)}): the response ` +
      `body was not parsed as JSON. Call response.json() or json.loads() on it first.`,
  },
  {
    cause: 'file_not_found',
    match: regex(/No such file or directory: '([^']+)'/),
    say: ([, file]) =>
      `The file '${file}' does not exist where the script looks for it. Taps run in their own ` +
      `working directory: use an absolute path (or pass it through params) and check the file ` +
      `is on the machine running tapline.`,
  },
  {
    cause: 'bad_output',
    match: kind('bad_output'),
    say: ([error]) =>
      `tapline could not read what fetch() returned (${quote(error ?? '', 120)}). fetch() must ` +
      `return or yield dicts (one per record) or lists (rows, header first), or ` +
      `{"records": [...], "state": {...}}.`,
  },
  {
    cause: 'system_exit',
    match: regex(
      /^SystemExit\b:? ?(?:the script called )?([^\n]*?)(?: before fetch\(\) finished)?$/m,
    ),
    say: ([, how], { facts }) => {
      const call = /^exit\(/.test(how ?? '') ? how : `exit(${how || ''})`;
      const message = /^exit\((['"])(.+)\1\)$/.exec(call ?? '')?.[2];
      const own = message ? ` Its own check failed: "${quote(message, 140)}".` : '';
      return (
        `The script ended itself with ${call}${exitCalls(facts.tap.script)} before fetch() ` +
        `finished, so the run failed; there is no traceback because nothing raised an ` +
        `error.${own} A tap should not exit: raise an exception that says what is wrong, or ` +
        `return [] when there is simply nothing to fetch.`
      );
    },
  },
  {
    cause: 'python_not_started',
    match: both(kind('crashed'), regex(/could not start Python '([^']*)': ([^;\n]*)/)),
    say: ([, python, reason]) =>
      `tapline could not start the Python interpreter '${python}' (${reason}), so the script ` +
      `never ran. Set runner.python in tapline.yaml (or TAPLINE_PYTHON) to the path of a ` +
      `Python 3 interpreter on the machine running tapline.`,
  },
  {
    cause: 'exit_code',
    match: both(kind('crashed'), regex(/exited with code (\d+)/)),
    say: ([, code], { facts }) => {
      const calls = exitCalls(facts.tap.script);
      const where = calls ? `; the script calls exit${calls}` : '';
      return (
        `The script's Python process exited with code ${code} before fetch() finished, ` +
        `without a Python error or traceback: something called os._exit(), or a native ` +
        `library ended the process${where}. Check the logs' last lines for what it was doing.`
      );
    },
  },
  {
    cause: 'crashed',
    match: kind('crashed'),
    say: ([error]) => {
      const signal = /killed by (SIG\w+)/.exec(error ?? '')?.[1];
      const what = signal ? `was killed by ${signal}` : 'ended without a Python error';
      const why =
        signal === 'SIGKILL'
          ? `Something outside the script killed it; the system's out-of-memory killer is the ` +
            `usual reason, so fetch less at a time (yield records one by one) and check the ` +
            `machine's free memory.`
          : signal === 'SIGSEGV' || signal === 'SIGBUS' || signal === 'SIGABRT'
            ? `It crashed inside a native library (a C extension the script imports); update ` +
              `that library or read the logs' last lines for the call that crashed.`
            : `Check the logs' last lines and the libraries the script uses.`;
      return `The script's Python process ${what} before fetch() finished. ${why}`;
    },
  },
];

/** The first cause whose rule matches the scene, or null. */
export function firstCause(scene: Scene): RuleAnswer | null {
  for (const rule of causeRules) {
    const found = rule.match(scene);
    if (found) return { cause: rule.cause, text: rule.say(found, scene) };
  }
  return null;
}
