/**
 * The text a language model gets. Every piece is masked before it is cut, so a secret value
 * split by a cut cannot slip through half-masked, and the whole is masked once more at the end.
 */
import { counted } from '../status/counted.js';
import type { JobErrorFacts, RunFacts } from './facts.js';

export interface ModelPrompt {
  system: string;
  user: string;
}

type Mask = (text: string) => string;

const scriptChars = 4000;
const errorChars = 2000;
const logHeadChars = 1500;
const logTailChars = 2500;

const system =
  'You help the author of a tapline tap. A tap is a Python script that defines fetch(), which ' +
  'returns or yields records fetched from an API, a web page or files. tapline passes per-run ' +
  'params as TAP_PARAM_<key> environment variables and the fields of the tap secret as ' +
  'environment variables under their own names. Explain in two to four plain sentences the ' +
  'most likely cause of what happened and the next step to fix it. Name the concrete thing ' +
  '(module, HTTP status, host, field, limit). No markdown, no code blocks, no preamble. ' +
  'Values shown as **** are secrets: never guess or repeat them.';

function head(text: string, max: number): string {
  return text.length > max
    ? `${text.slice(0, max)}\n[… ${text.length - max} more characters]`
    : text;
}

function headAndTail(text: string, first: number, last: number): string {
  if (text.length <= first + last) return text;
  const cut = text.length - first - last;
  return `${text.slice(0, first)}\n[… ${cut} characters cut …]\n${text.slice(-last)}`;
}

function outcomeOf(facts: RunFacts): string {
  if (facts.outcome === 'failure') return `failed (${facts.failureKind ?? 'unknown kind'})`;
  return `succeeded with ${counted(facts.recordCount, 'record')}`;
}

export function runPrompt(facts: RunFacts, hint: string, mask: Mask): ModelPrompt {
  const user = [
    `Tap: ${mask(facts.tap.name)}`,
    `Description: ${mask(facts.tap.description) || '(none)'}`,
    `Mode: ${facts.mode}`,
    `Outcome: ${outcomeOf(facts)}`,
    `Secret: ${facts.tap.secret ? `'${facts.tap.secret}' (values masked)` : 'none'}`,
    `Params: ${mask(JSON.stringify(facts.params))}`,
    '',
    'Error:',
    head(mask(facts.error ?? '(none)'), errorChars),
    '',
    'Logs (head and tail):',
    headAndTail(mask(facts.logs || '(empty)'), logHeadChars, logTailChars),
    '',
    'Script (tap.py):',
    head(mask(facts.tap.script), scriptChars),
    '',
    `A built-in rule suggests: ${mask(hint)}`,
  ].join('\n');
  return { system, user: mask(user) };
}

export function jobPrompt(facts: JobErrorFacts, hint: string, mask: Mask): ModelPrompt {
  const user = [
    'A pipeline job that loads the records of a tap run failed.',
    `Pipeline: ${mask(facts.pipeline)}`,
    `Stage: ${facts.processName}`,
    `Destination type: ${facts.destinationType ?? 'unknown'}`,
    'Error:',
    head(mask(facts.description), errorChars),
    '',
    `A built-in rule suggests: ${mask(hint)}`,
  ].join('\n');
  return { system, user: mask(user) };
}
