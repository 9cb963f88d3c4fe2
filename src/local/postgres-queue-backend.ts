import { createPostgresBackend, DEFAULT_SCHEMA, runMigrations, setDefaultBackendFactory } from 'bullmq';
import pg from 'pg';

import { DATABASE_TIMEOUTS } from '../database/database-timeouts.config.js';

/**
 * Puts every BullMQ Queue and Worker of this process on BullMQ's PostgreSQL backend, so that hookrun
 * runs without Redis. It must run before the Nest application is created: the backend is chosen when
 * a Queue or Worker is constructed, through a process-wide default factory.
 *
 * The factory ignores the `connection` each Queue/Worker was given (@nestjs/bullmq hands them
 * `BullModule.forRoot`'s Redis options, which `pg` would read as "connect with defaults") and gives
 * them this database instead. `prefix` means nothing to this backend; `schema` is its namespace.
 * The backend's own schema is migrated here, once, because Queue/Worker only check it.
 */
export async function usePostgresQueueBackend(databaseUrl: string, options: { schema?: string } = {}): Promise<void> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  // The migrator takes a transaction-scoped advisory lock, so it needs one session of its own, not a pool.
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
