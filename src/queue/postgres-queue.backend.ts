import { createPostgresBackend, DEFAULT_SCHEMA, runMigrations, setDefaultBackendFactory } from 'bullmq';
import pg from 'pg';

import { DATABASE_TIMEOUTS } from '../database/database-timeouts.config.js';

// Ignores the Redis-shaped `connection` each Queue and Worker is given: pg would read it as "connect with defaults".
export async function usePostgresQueueBackend(databaseUrl: string): Promise<void> {
  const schema = DEFAULT_SCHEMA;
  // Queue and Worker only check the backend's schema; its migrator needs a session of its own (advisory lock).
  const client = new pg.Client({
    connectionString: databaseUrl,
    application_name: 'hookrun-queue-migrate',
    connectionTimeoutMillis: DATABASE_TIMEOUTS.connectionTimeoutMillis,
  });
  await client.connect();
  try {
    await runMigrations(client, schema);
  } finally {
    await client.end();
  }
  const connection = { connectionString: databaseUrl, schema, application_name: 'hookrun-queue', ...DATABASE_TIMEOUTS };
  setDefaultBackendFactory((name, opts, factoryOptions) =>
    createPostgresBackend(name, { ...opts, connection }, factoryOptions),
  );
}
