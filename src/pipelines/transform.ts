import type { Transform } from './pipeline-schema.js';

/** The transformed record, or why it cannot be transformed. */
export type TransformOutcome = Record<string, unknown> | string;

/**
 * The `transform` stage: trimStrings, emptyStringsAsNull, drop, rename, in that order. A record
 * that holds both a renamed key and its new name is refused rather than losing one value.
 */
export function createTransform(
  transform: Transform,
): (record: Record<string, unknown>) => TransformOutcome {
  const { trimStrings, emptyStringsAsNull } = transform;
  const dropped = new Set(transform.drop);
  const renamed = new Map(Object.entries(transform.rename));
  const reshapes = dropped.size > 0 || renamed.size > 0;

  return (record) => {
    if (trimStrings || emptyStringsAsNull) {
      for (const key in record) {
        let value = record[key];
        if (typeof value !== 'string') continue;
        if (trimStrings) value = value.trim();
        record[key] = emptyStringsAsNull && value === '' ? null : value;
      }
    }
    if (!reshapes) return record;

    // A new object rather than `delete`, which would push V8 into slow dictionary objects.
    const out: Record<string, unknown> = {};
    for (const key in record) {
      if (dropped.has(key)) continue;
      const target = renamed.get(key) ?? key;
      if (Object.hasOwn(out, target)) {
        const other = target === key ? [...renamed].find(([, to]) => to === key)?.[0] : key;
        return `renaming '${other}' to '${target}' would overwrite '${target}'`;
      }
      out[target] = record[key];
    }
    return out;
  };
}

/** The name a tap's key has after the transform, or undefined when it is dropped. */
export function transformedName(transform: Transform | undefined, key: string): string | undefined {
  if (transform?.drop.includes(key)) return undefined;
  return transform?.rename[key] ?? key;
}
