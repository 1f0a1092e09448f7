/**
 * The built-in explanation of a run. They answer when no model is configured, and they are the
 * hint the model gets when one is. A failure is explained by its cause; an empty or noisy
 * success by what its logs show, else by its params (a date window) or its warnings.
 */
import { counted } from '../status/counted.js';
import {
  datePattern,
  dateWindow,
  hasTraceback,
  pythonException,
  quote,
  scriptFrame,
  shortTypeName,
  warningLines,
} from './clues.js';
import { at, type RuleAnswer, type Scene } from './cause-rule.js';
import { firstCause } from './cause-rules.js';
import type { RunFacts } from './facts.js';

export type { RuleAnswer } from './cause-rule.js';

/** Where to look next: the script's frame, the traceback, or (without either) fetch itself. */
function whereToLook(scene: Scene): string {
  if (scriptFrame(scene.text)) {
    return `Start at that line: it is the last frame in tap.py of the traceback.`;
  }
  if (hasTraceback(scene.text)) {
    return (
      `The traceback names no line of tap.py, so the error came from a library the script ` +
      `called: its last lines say which call failed.`
    );
  }
  const logs = scene.facts.logs.trim() ? ` The logs' last lines show what it did before.` : '';
  return (
    `No traceback was printed, so no line of tap.py was running: it was raised as tapline ` +
    `called fetch(). Check what fetch is defined as; tapline calls it with no arguments.${logs}`
  );
}

function genericFailure(facts: RunFacts): RuleAnswer {
  const error = facts.error ?? '';
  const exception = pythonException(error) ?? pythonException(facts.logs);
  const scene: Scene = { facts, text: `${error}\n${facts.logs}` };
  if (exception) {
    const name = shortTypeName(exception.type);
    return {
      cause: 'exception',
      text:
        `The script raised ${name}: ${quote(exception.message, 140)}${at(scene)}. ` +
        whereToLook(scene),
    };
  }
  const logs = facts.logs.trim()
    ? `The logs' last lines show what the script was doing.`
    : 'The script printed nothing.';
  return {
    cause: 'failure',
    text: `The run failed: ${quote(error || 'no error message', 300)}. ${logs}`,
  };
}

const deprecationPattern =
  /((?:\w*Deprecation|Future)Warning): ([^\n]*)|^([^\n]*\bdeprecat[^\n]*)$/im;

function noisyRun(facts: RunFacts): RuleAnswer | null {
  const deprecation = deprecationPattern.exec(facts.logs);
  if (/InsecureRequestWarning/.test(facts.logs)) {
    return {
      cause: 'insecure_request',
      text:
        `The run succeeded, but it made HTTPS requests without checking certificates ` +
        `(InsecureRequestWarning). Remove verify=False; if the source uses a private CA, point ` +
        `REQUESTS_CA_BUNDLE at its certificate.`,
    };
  }
  if (deprecation) {
    const what = deprecation[1]
      ? `${deprecation[1]}: ${deprecation[2] ?? ''}`
      : (deprecation[3] ?? '');
    return {
      cause: 'deprecation',
      text:
        `The run succeeded, but the logs show a deprecation warning: "${quote(what, 160)}". ` +
        `It works today and breaks when the library or API drops it; update the call it names.`,
    };
  }
  const line = warningLines(facts.logs)[0];
  if (!line) return null;
  return {
    cause: 'warning',
    text:
      `The run succeeded, but the logs hold a warning: "${quote(line, 160)}". Check whether it ` +
      `affects the records, and fix or silence it once understood.`,
  };
}

function emptyRun(facts: RunFacts): RuleAnswer {
  const window = dateWindow(facts.params);
  if (window.length > 0) {
    const shown = window.map(([key, value]) => `${key}=${String(value)}`).join(', ');
    const values = window.map(([, value]) => String(value)).filter((v) => datePattern.test(v));
    const [first, second] = values;
    const odd =
      first && second && second < first
        ? ' Note that the second date is before the first, which makes the window empty.'
        : first && second && first === second
          ? ' Both dates are the same, which is an empty window if the end is exclusive.'
          : '';
    return {
      cause: 'empty_window',
      text:
        `The run finished but returned no records for the window ${shown}. Check that the ` +
        `source has data in it, that the dates are in the format it expects, and the timezone: ` +
        `the source may read dates in UTC or in its own local time, so a one-day window can ` +
        `fall on another day than intended.${odd}`,
    };
  }
  if (facts.state !== undefined && facts.state !== null) {
    const cursor = JSON.stringify(facts.state);
    return {
      cause: 'empty_since_state',
      text:
        `The run started from the stored state ${quote(cursor, 160)} and found nothing newer, ` +
        `which is normal for an incremental tap when the source has no new data yet. If data ` +
        `is missing, check the cursor (GET /api/v1/taps/${facts.tap.name}/state) and reset it ` +
        `with DELETE on the same path to fetch everything again.`,
    };
  }
  return {
    cause: 'empty',
    text:
      `The run finished without an error but returned no records. Check that fetch() returns ` +
      `or yields its records (a missing return, or a filter that drops everything, gives an ` +
      `empty run) and that the source has data for these params.`,
  };
}

const networkCauses = /^(http_|dns|connection_refused|tls|request_timeout)/;

/** The rules' explanation of a run, or null when there is nothing to explain. */
export function explainRunByRules(facts: RunFacts): RuleAnswer | null {
  if (facts.outcome === 'failure') {
    const scene = { facts, text: `${facts.error ?? ''}\n${facts.logs}` };
    return firstCause(scene) ?? genericFailure(facts);
  }

  // A script that catches its own errors and prints them still tells us what went wrong. With
  // records, only lines that say warning or error count, so a stray "status 404" in a progress
  // line does not make a good run look broken.
  const readLogs = facts.recordCount === 0 || warningLines(facts.logs).length > 0;
  const inLogs = readLogs ? firstCause({ facts, text: facts.logs }) : null;
  if (facts.recordCount === 0) {
    if (inLogs && networkCauses.test(inLogs.cause)) {
      return {
        cause: `empty_${inLogs.cause}`,
        text:
          `The run returned no records, but its logs show that the source refused or failed: ` +
          `${inLogs.text} So the data may not be empty; let the script raise on such errors ` +
          `(e.g. response.raise_for_status()) so the run fails instead of looking empty.`,
      };
    }
    if (inLogs) {
      return {
        cause: `empty_${inLogs.cause}`,
        text: `The run returned no records, and its logs show an error: ${inLogs.text}`,
      };
    }
    return emptyRun(facts);
  }

  if (inLogs) {
    return {
      cause: `noisy_${inLogs.cause}`,
      text:
        `The run returned ${counted(facts.recordCount, 'record')}, but its logs show a ` +
        `problem: ` +
        `${inLogs.text} Some requests may have failed, so the records may be incomplete.`,
    };
  }
  return noisyRun(facts);
}
