/** pg's connection options that bound how long anything waits for PostgreSQL. */
export interface DatabaseTimeouts {
  connectionTimeoutMillis?: number;
  statement_timeout?: number;
  query_timeout?: number;
  keepAlive?: boolean;
  keepAliveInitialDelayMillis?: number;
}

/**
 * Bounds on every connection to PostgreSQL, so that a stalled server (the connection open, no byte
 * coming back) fails requests and jobs in seconds instead of holding them for as long as it stalls:
 * connecting (and waiting for a pooled connection), each statement on the server, and each statement
 * as the client sees it (what a stalled server never ends). Keep-alive finds connections whose peer
 * is gone without a word.
 */
export const DATABASE_TIMEOUTS: DatabaseTimeouts = {
  connectionTimeoutMillis: 2000,
  statement_timeout: 10_000,
  query_timeout: 12_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
};
