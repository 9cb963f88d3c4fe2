import pg from 'pg';

import { TEST_DATABASE_URL } from './env.js';

/** Creates the test database when it is missing; migrations then run as the app starts. */
export async function ensureTestDatabase(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  // Decoded and quoted as pg names it when connecting: the database created is the one TEST_DATABASE_URL names.
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`).catch((error: { code?: string }) => {
        // Another test process created it first.
        if (error.code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.end();
  }
}
