// The PostgreSQL database and Redis keys the bench uses, and cleaning them between scenarios.
import pg from 'pg';
import { Redis } from 'ioredis';

/**
 * Creates the database if it does not exist (connecting to the server's `postgres` database to do so).
 * @param {string} databaseUrl
 */
export async function ensureDatabase(databaseUrl) {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const probe = new pg.Client({ connectionString: databaseUrl });
  try {
    await probe.connect();
    await probe.end();
    return { created: false, name };
  } catch (error) {
    if (/** @type {{ code?: string }} */ (error).code !== '3D000') throw error;
  }
  const adminUrl = new URL(databaseUrl);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // Another bench created it meanwhile.
    if (/** @type {{ code?: string }} */ (error).code !== '42P04') throw error;
  } finally {
    await admin.end();
  }
  return { created: true, name };
}

/** The name of the database a URL points at. @param {string} databaseUrl */
export function databaseName(databaseUrl) {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
}

/**
 * Empties every table of the bench database except the migrations' record, so that each scenario starts
 * from the same state; then a checkpoint, so that its I/O does not land in the next measurement.
 * @param {pg.Pool} db
 */
export async function cleanDatabase(db) {
  const { rows } = await db.query(
    `SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'migrations'`,
  );
  if (rows.length > 0) {
    await db.query(`TRUNCATE ${rows.map((r) => r.name).join(', ')} RESTART IDENTITY CASCADE`);
  }
  try {
    await db.query('CHECKPOINT');
  } catch {
    // Not a superuser: the checkpoint happens when PostgreSQL decides.
  }
}

/**
 * Deletes every Redis key under `prefix` (this invocation's queues only).
 * @param {string} redisUrl
 * @param {string} prefix
 */
export async function cleanRedis(redisUrl, prefix) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/**
 * Runs not yet finished.
 * @param {pg.Pool} db
 */
export async function unfinishedRuns(db) {
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM workflow_runs WHERE completed_at IS NULL`);
  return /** @type {number} */ (rows[0].n);
}

/** Advisory lock key held by a running bench: one bench at a time per database (and so per machine). */
const BENCH_LOCK_ID = 7_201_552_818;

/**
 * Takes the bench's lock on a connection of its own, waiting while another bench holds it (they would
 * empty each other's tables and share the CPU). Returns a function that releases it.
 * @param {string} databaseUrl @param {number} maxWaitMs @param {(line: string) => void} log
 */
export async function lockBench(databaseUrl, maxWaitMs, log) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'hookrun-bench-lock' });
  await client.connect();
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const { rows } = await client.query('SELECT pg_try_advisory_lock($1) AS ok', [BENCH_LOCK_ID]);
    if (rows[0].ok) break;
    if (Date.now() > deadline) {
      await client.end();
      throw new Error('Another bench is still running against this database: try again when it has finished');
    }
    if (!told) {
      log('Another bench is running against this database: waiting for it to finish...');
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  return async () => {
    await client.query('SELECT pg_advisory_unlock($1)', [BENCH_LOCK_ID]).catch(() => undefined);
    await client.end().catch(() => undefined);
  };
}
