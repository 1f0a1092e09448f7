import type { ScriptFailureKind } from '../runner/script-run.js';

/** What the explainer knows about one finished run; the lead builds it from the run result. */
export interface RunFacts {
  tap: {
    name: string;
    description: string;
    script: string;
    secret: string | null;
    /** The tap's own wall-clock limit, when it sets one instead of the mode's default. */
    timeoutSeconds?: number | null;
  };
  mode: 'run' | 'test';
  params: Record<string, unknown>;
  outcome: 'success' | 'failure';
  failureKind: ScriptFailureKind | null;
  recordCount: number;
  logs: string;
  error: string | null;
  /** The state (incremental cursor) the script started from, or undefined for none. */
  state?: unknown;
}

/** A failed pipeline job: the rollup's `lastError` plus where it happened. */
export interface JobErrorFacts {
  pipeline: string;
  processName: string;
  description: string;
  destinationType?: string;
}

/** `source` is `rules` or the name of the model that wrote `text`. */
export interface Explanation {
  text: string;
  source: string;
}
