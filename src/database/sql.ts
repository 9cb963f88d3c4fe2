/**
 * TypeORM's raw `query()` answers UPDATE and DELETE with `[rows, rowCount]` and everything else with
 * `rows`; this gives the rows either way, so that `UPDATE ... RETURNING` can be read like a SELECT.
 */
export function rowsOf<T>(raw: unknown): T[] {
  if (Array.isArray(raw) && raw.length === 2 && Array.isArray(raw[0]) && typeof raw[1] === 'number') {
    return raw[0] as T[];
  }
  return raw as T[];
}
