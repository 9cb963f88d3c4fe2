import pg, { type Pool, type QueryResult } from 'pg';
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

/** One statement name per distinct statement text, kept for the process's life. */
const statementNames = new Map<string, string>();

/** pg's pool takes a ready query object with a callback (pg-pool's `query(query, callback)`). */
type PoolQuery = (query: pg.Query, callback: (error: Error | undefined, result: QueryResult) => void) => void;

/**
 * Runs one of hookrun's fixed hot-path statements as a named prepared statement: each pooled connection
 * parses and plans it once, then only binds and executes it. On the ingest path that cut PostgreSQL's
 * CPU per request by about 40 % (BENCHMARKS.md). Only for statement texts fixed in the code (one name
 * per distinct text), whose result columns are listed, never `*`: a migration that adds a column then
 * changes no prepared statement's result type.
 */
export function preparedQuery<T>(pool: Pool, text: string, values: unknown[]): Promise<T[]> {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `hookrun_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  // Built from its text, the query skips pg's copy of a query config object (`Object.defineProperties`
  // on every call, ~4 µs); its name is set before the pool submits it.
  const query = new pg.Query(text, values) as pg.Query & { name?: string };
  query.name = name;
  return new Promise((resolve, reject) => {
    (pool.query as unknown as PoolQuery).call(pool, query, (error, result) =>
      error ? reject(error) : resolve(result.rows as T[]),
    );
  });
}

/** The pg pool under a TypeORM data source: hot paths send plain parameterised SQL straight to it. */
export function poolOf(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}
