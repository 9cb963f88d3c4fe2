import type { MigrationInterface, QueryRunner } from 'typeorm';

// The runs an action applies to are copied when it is created (so later runs are never swept in); a row's outcome
// is written in the same transaction as the change to its run, so that a run is acted on once, whoever takes it.
export class BulkActions1764217100000 implements MigrationInterface {
  name = 'BulkActions1764217100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE bulk_actions (
        id uuid PRIMARY KEY,
        action text NOT NULL CHECK (action IN ('cancel', 'retry', 'rerun')),
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed')),
        filter jsonb NOT NULL,
        run_limit int NOT NULL,
        idempotency_key text UNIQUE,
        request_hash text NOT NULL,
        matched int NOT NULL DEFAULT 0,
        done int NOT NULL DEFAULT 0,
        failed int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        progressed_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz,
        CHECK ((status = 'completed') = (completed_at IS NOT NULL))
      )`);
    await q.query(
      `CREATE INDEX bulk_actions_unfinished_idx ON bulk_actions (progressed_at) WHERE status <> 'completed'`,
    );
    await q.query(`
      CREATE TABLE bulk_action_runs (
        bulk_action_id uuid NOT NULL REFERENCES bulk_actions (id) ON DELETE CASCADE,
        run_id uuid NOT NULL,
        outcome text CHECK (outcome IN ('done', 'failed')),
        reason_code text,
        reason text,
        PRIMARY KEY (bulk_action_id, run_id)
      )`);
    await q.query(
      `CREATE INDEX bulk_action_runs_pending_idx ON bulk_action_runs (bulk_action_id, run_id) WHERE outcome IS NULL`,
    );
    await q.query(
      `CREATE INDEX bulk_action_runs_failed_idx ON bulk_action_runs (bulk_action_id, run_id DESC)
        WHERE outcome = 'failed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS bulk_action_runs`);
    await q.query(`DROP TABLE IF EXISTS bulk_actions`);
  }
}
