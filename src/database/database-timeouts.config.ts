export interface DatabaseTimeouts {
  connectionTimeoutMillis?: number;
  statement_timeout?: number;
  query_timeout?: number;
  keepAlive?: boolean;
  keepAliveInitialDelayMillis?: number;
}

// A stalled server (connection open, no byte back) fails requests and jobs in seconds; only the client-side
// query_timeout ends a statement such a server never answers.
export const DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connectionTimeoutMillis: 2000,
  statement_timeout: 10_000,
  query_timeout: 12_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
};
