import type { Pool, QueryConfig } from 'pg';
import type { DataSource } from 'typeorm';

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

/** One per distinct statement text: its name and text, shared by every execution (the prototype of each). */
const statements = new Map<string, { name: string; text: string }>();

/**
 * Runs one of hookrun's fixed hot-path statements as a named prepared statement: each pooled connection
 * parses and plans it once, then only binds and executes it. On the ingest path that cut PostgreSQL's
 * CPU per request by about 40 % (BENCHMARKS.md). Only for statement texts fixed in the code (one name
 * per distinct text, kept for the process's life), whose result columns are listed, never `*`: a
 * migration that adds a column then changes no prepared statement's result type.
 */
export async function preparedQuery<T>(pool: Pool, text: string, values: unknown[]): Promise<T[]> {
  let statement = statements.get(text);
  if (statement === undefined) {
    statement = { name: `hookrun_${statements.size + 1}`, text };
    statements.set(text, statement);
  }
  // pg copies every own property of a query's config for each call; name and text inherited from the
  // statement leave it only `values` to copy.
  const config = Object.create(statement) as QueryConfig;
  config.values = values;
  return (await pool.query(config)).rows as T[];
}

/** The pg pool under a TypeORM data source: hot paths send plain parameterised SQL straight to it. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
