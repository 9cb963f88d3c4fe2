import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource } from 'typeorm';

import { dataSourceOptions, MIGRATIONS, runMigrations } from '../../src/database/data-source.config.js';
import { HotRunClaims1764216700000 } from '../../src/database/migrations/1764216700000-hot-run-claims.js';
import { TEST_DATABASE_URL } from '../support/env.js';

function databaseUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * A database of this test's own, so that migrations can go down and up without touching the others: named after
 * TEST_DATABASE_URL's, so that whoever sets that variable controls every database the tests create and drop.
 */
function migrationsDatabaseName(): string {
  const name = `${decodeURIComponent(new URL(TEST_DATABASE_URL).pathname.slice(1))}_migrations`;
  // PostgreSQL would cut a longer name to 63 bytes, which could name another database, the test one included.
  if (Buffer.byteLength(name) > 63) throw new Error(`${name} is longer than PostgreSQL's 63-byte names`);
  return name;
}

describe('the migration that keys unfinished runs on completed_at', () => {
  const name = migrationsDatabaseName();
  const quoted = `"${name.replace(/"/g, '""')}"`;
  const url = databaseUrl(name);
  const admin = new pg.Client({ connectionString: databaseUrl('postgres') });
  const db = new pg.Client({ connectionString: url });

  beforeAll(async () => {
    await admin.connect();
    // Left over from an earlier run of this test, interrupted.
    await admin.query(`DROP DATABASE IF EXISTS ${quoted}`);
    await admin.query(`CREATE DATABASE ${quoted}`);
  });

  afterAll(async () => {
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`);
    await admin.end();
  });

  const unfinishedIndex = async () =>
    (await db.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'workflow_runs_unfinished_idx'`)).rows[0]
      .indexdef as string;

  it('mends runs that broke the rule, then holds it with a CHECK; down restores the index on status', async () => {
    const before = new DataSource({
      ...dataSourceOptions(url, 2),
      migrations: MIGRATIONS.filter((migration) => migration !== HotRunClaims1764216700000),
    });
    await before.initialize();
    await before.runMigrations({ transaction: 'each' });
    await before.destroy();

    await db.connect();
    const insert = (status: string, completedAt: string | null) =>
      db
        .query(
          `INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, started_at, completed_at)
           VALUES ($1, $2, 1, $3, 'api', '2026-01-01T00:00:00Z', $4) RETURNING id`,
          [randomUUID(), randomUUID(), status, completedAt],
        )
        .then((result) => result.rows[0].id as string);
    const finishedWithoutEnd = await insert('cancelled', null);
    const queuedWithEnd = await insert('queued', '2026-01-02T00:00:00Z');
    const running = await insert('running', null);
    const completed = await insert('completed', '2026-01-03T00:00:00Z');

    expect(await runMigrations(url)).toEqual(['HotRunClaims1764216700000']);

    const rows = await db.query(`SELECT id, completed_at FROM workflow_runs`);
    const completedAt = new Map(rows.rows.map((row) => [row.id, row.completed_at?.toISOString() ?? null]));
    expect(Object.fromEntries(completedAt)).toEqual({
      [finishedWithoutEnd]: '2026-01-01T00:00:00.000Z',
      [queuedWithEnd]: null,
      [running]: null,
      [completed]: '2026-01-03T00:00:00.000Z',
    });
    await expect(insert('failed', null)).rejects.toMatchObject({
      code: '23514',
      constraint: 'workflow_runs_completed_when_finished',
    });
    await expect(insert('queued', '2026-01-02T00:00:00Z')).rejects.toMatchObject({ code: '23514' });
    expect(await unfinishedIndex()).toMatch(/WHERE \(completed_at IS NULL\)$/);
    const options = await db.query(`SELECT reloptions FROM pg_class WHERE relname = 'workflow_runs'`);
    expect(options.rows[0].reloptions).toEqual(['fillfactor=80']);

    const after = new DataSource(dataSourceOptions(url, 2));
    await after.initialize();
    await after.undoLastMigration({ transaction: 'each' });
    await after.destroy();
    expect(await unfinishedIndex()).toMatch(/WHERE \(status = ANY \(ARRAY\['queued'::text, 'running'::text\]\)\)$/);
    await expect(insert('failed', null)).resolves.toEqual(expect.any(String));
  });
});
