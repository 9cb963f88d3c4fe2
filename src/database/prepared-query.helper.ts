import type { Pool } from 'pg';

/** One statement name per distinct statement text, kept for the process's life. */
const statementNames = new Map<string, string>();

/**
 * Runs one of hookrun's fixed hot-path statements as a named prepared statement: each pooled connection
 * parses and plans it once, then only binds and executes it (BENCHMARKS.md). Only for statement texts
 * fixed in the code, whose result columns are listed, never `*`: a migration that adds a column then
 * changes no prepared statement's result type.
 */
export async function preparedQuery<T>(pool: Pool, text: string, values: unknown[]): Promise<T[]> {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `hookrun_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}
