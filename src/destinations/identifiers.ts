/**
 * How record keys become SQL column names, and the one function that quotes a name for SQL.
 *
 * The rule, applied to every key: lowercase it; replace each character outside [a-z0-9_]
 * with `_`; prefix `_` when it starts with a digit or is empty; cut it to 63 characters.
 * Lowercasing is deliberate: SQLite (and Postgres, once it follows) compares identifiers
 * without regard to case, so `Name` and `name` would land in one column anyway. Making the
 * fold explicit lets a collision be reported instead of one key silently overwriting the other.
 * 63 is Postgres' limit, so a table loaded here keeps its column names there.
 */
const maxIdentifierLength = 63;

export function columnNameFor(key: string): string {
  let name = key.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (name === '' || /^[0-9]/.test(name)) name = `_${name}`;
  return name.slice(0, maxIdentifierLength);
}

/** Table names are taken as written, so they must already be safe; the pipeline checks this. */
export const tableNamePattern = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Names tapline keeps for itself or SQLite reserves. */
export function isReservedTableName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('sqlite_') || lower.startsWith('_tapline');
}

/**
 * Quotes any identifier placed in SQL: every table, column and index name goes through here.
 * Values are never spliced into SQL; they are bound as parameters.
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Maps keys to column names, remembering which key claimed each name so that a second key
 * folding to the same name is refused with both keys named.
 */
export class ColumnNames {
  private readonly byKey = new Map<string, string>();
  private readonly keyByColumn = new Map<string, string>();

  /** The column for `key`, or an error message when another key already owns that column. */
  resolve(key: string): { column: string } | { collision: string } {
    const known = this.byKey.get(key);
    if (known !== undefined) return { column: known };

    const column = columnNameFor(key);
    const owner = this.keyByColumn.get(column);
    if (owner !== undefined && owner !== key) {
      return {
        collision:
          `keys '${owner}' and '${key}' both become column '${column}' ` +
          '(column names are lowercased and non [a-z0-9_] characters become _); ' +
          'rename one of them in the pipeline transform',
      };
    }
    this.byKey.set(key, column);
    this.keyByColumn.set(column, key);
    return { column };
  }
}
