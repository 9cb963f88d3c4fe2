import type { MigrationInterface, QueryRunner } from 'typeorm';

// `updated_at` stays unindexed so that claims remain HOT; the changes feed reaches changed rows through the
// primary key (new runs), the unfinished partial index and the completed_at index (finish is never HOT anyway).
export class RunConsoleQueries1764216800000 implements MigrationInterface {
  name = 'RunConsoleQueries1764216800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_runs ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(
      `CREATE INDEX workflow_runs_completed_idx ON workflow_runs (completed_at) WHERE completed_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX workflow_runs_manual_idx ON workflow_runs (trigger_type, id DESC) WHERE trigger_type <> 'webhook'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS workflow_runs_manual_idx`);
    await q.query(`DROP INDEX IF EXISTS workflow_runs_completed_idx`);
    await q.query(`ALTER TABLE workflow_runs DROP COLUMN IF EXISTS updated_at`);
  }
}
