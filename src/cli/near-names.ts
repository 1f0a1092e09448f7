import { ApiError, type ApiClient } from './api-client.js';

/** Levenshtein distance; names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** Names close to a mistyped one, by the rule the server uses for taps. */
export function nearNames(name: string, candidates: string[]): string[] {
  const wanted = name.toLowerCase();
  if (wanted === '') return [];
  return candidates
    .filter((candidate) => {
      const lower = candidate.toLowerCase();
      // A one- or two-letter name is inside too many others to be a useful suggestion.
      const contains = lower.length >= 3 && (lower.includes(wanted) || wanted.includes(lower));
      return contains || distance(lower, wanted) <= 2;
    })
    .slice(0, 5);
}

/**
 * A catch handler that adds the pipelines named like `name` to a "no such pipeline" error, for
 * "did you mean". The server names near taps in its error but not near pipelines, so the CLI
 * asks for the list itself; it can go once the server's error carries `similar` for both.
 */
export function suggestPipelines(client: ApiClient, name: string) {
  return async (error: unknown): Promise<never> => {
    const missing =
      error instanceof ApiError &&
      (error.code === 'pipeline_not_found' || error.code === 'unknown_pipeline') &&
      !Array.isArray(error.details.similar);
    if (missing) {
      const pipelines = await client.get<{ name: string }[]>('/pipelines').catch(() => []);
      error.details.similar = nearNames(
        name,
        pipelines.map((pipeline) => pipeline.name),
      );
    }
    throw error;
  };
}
