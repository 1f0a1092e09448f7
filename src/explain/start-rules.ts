/**
 * The causes of runs whose script did not run through: tapline refused to start it (its secret
 * or target pipeline is missing) or failed itself. They come first in the table: such a run's
 * error is tapline's, whatever the logs hold.
 */
import { both, type CauseRule, kind, regex } from './cause-rule.js';
import { environmentNames, quote } from './clues.js';

/** The fields a missing secret needs: the variables the script reads, params aside. */
function secretFields(script: string): string {
  const names = environmentNames(script);
  return names.length > 0 ? ` with the fields the script reads (${names.join(', ')})` : '';
}

const notStarted = kind('not_started');

export const startRules: CauseRule[] = [
  {
    cause: 'internal',
    match: kind('internal'),
    say: () =>
      `tapline itself failed while handling this run; the script is not at fault and may not ` +
      `have run at all. The server log has the details: look for the error logged with this ` +
      `run's runId. Run the tap again; if it fails the same way, report that log entry.`,
  },
  {
    cause: 'missing_secret',
    // tapline's own message, so a script's "secret 'x' not found" is not taken for it.
    match: regex(/secret '([^']+)' named by tap '[^'\n]*' does not exist/),
    say: ([, name], { facts }) =>
      `${facts.failureKind === 'not_started' ? 'tapline did not start the script: the' : 'The'} ` +
      `tap uses the secret '${name}', which does not exist in tapline's secret store. ` +
      `Create it (POST /api/v1/secrets, or tapline secret set ${name} FIELD=value)` +
      `${secretFields(facts.tap.script)}, or change the tap's secret to one that exists, then ` +
      `run again.`,
  },
  {
    cause: 'missing_pipeline',
    match: both(notStarted, regex(/target ?pipeline '([^']+)'/i)),
    say: ([, name]) =>
      `tapline did not start the script: the tap's target pipeline '${name}' no longer exists ` +
      `(it was deleted after the tap was saved), and a run-mode run has nowhere to load its ` +
      `records. Create the pipeline '${name}' again (POST /api/v1/pipelines, or tapline ` +
      `pipeline add), or change the tap's targetPipeline to a pipeline that exists, or to none. ` +
      `Testing the tap needs no pipeline.`,
  },
  {
    cause: 'not_started',
    match: notStarted,
    say: ([error]) =>
      `tapline did not start the script: ${quote(error || 'no reason given', 300)}. Nothing in ` +
      `the script ran; fix the tap's settings and run again.`,
  },
];
