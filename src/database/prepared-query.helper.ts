import type { Pool } from 'pg';

const statementNames = new Map<string, string>();

// Fixed texts with listed columns, never `*`: a migration adding a column then changes no prepared statement's result.
export async function preparedQuery<T>(pool: Pool, text: string, values: unknown[]): Promise<T[]> {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `hookrun_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  const result = await pool.query({ name, text, values });
  return result.rows as T[];
}
