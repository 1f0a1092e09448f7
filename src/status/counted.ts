/**
 * A count with its noun, as status event descriptions and messages word it: "1 record",
 * "3 records", "0 rows", "1 batch" / "2 batches" (give the plural when it is not noun + s).
 */
export function counted(count: number | bigint, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 || count === 1n ? singular : plural}`;
}
