/**
 * Names close to a mistyped one, for the `similar` of "does not exist" errors ("did you mean"):
 * within two edits, or one containing the other. At most five.
 */
export function nearNames(name: string, candidates: readonly string[]): string[] {
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
