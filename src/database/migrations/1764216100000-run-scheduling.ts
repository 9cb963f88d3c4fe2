import type { MigrationInterface, QueryRunner } from 'typeorm';

// Delay-step wake-up time and reconciler check time, so runs survive a queue that lost its data.
export class RunScheduling1764216100000 implements MigrationInterface {
  name = 'RunScheduling1764216100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_runs ADD COLUMN wake_at timestamptz, ADD COLUMN checked_at timestamptz`);
    await q.query(
      `CREATE INDEX workflow_runs_unfinished_idx ON workflow_runs (checked_at NULLS FIRST, id)
        WHERE status IN ('queued', 'running')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS workflow_runs_unfinished_idx`);
    await q.query(`ALTER TABLE workflow_runs DROP COLUMN IF EXISTS wake_at, DROP COLUMN IF EXISTS checked_at`);
  }
}
