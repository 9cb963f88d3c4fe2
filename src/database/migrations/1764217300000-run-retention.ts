import type { MigrationInterface, QueryRunner } from 'typeorm';

// Outside a transaction, so that the index is built without blocking run inserts, and each step may run again
// after an interruption. Deleting a run looks up the runs that name it as `rerun_of`: without the index, a seq scan
// of the whole table per deleted run. A rerun outlives its original, so the reference is cleared, not refused.
export class RunRetention1764217300000 implements MigrationInterface {
  name = 'RunRetention1764217300000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflows ADD COLUMN IF NOT EXISTS run_retention_days integer`);
    await q.query(
      `ALTER TABLE workflows DROP CONSTRAINT IF EXISTS workflows_run_retention_days_check,
         ADD CONSTRAINT workflows_run_retention_days_check
         CHECK (run_retention_days = 0 OR run_retention_days BETWEEN 3 AND 3650)`,
    );
    // An interrupted CONCURRENTLY build leaves an invalid index behind.
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS workflow_runs_rerun_of_idx`);
    await q.query(
      `CREATE INDEX CONCURRENTLY workflow_runs_rerun_of_idx ON workflow_runs (rerun_of) WHERE rerun_of IS NOT NULL`,
    );
    // NOT VALID then VALIDATE: the exclusive lock lasts no longer than the catalog change.
    await q.query(
      `ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_rerun_of_fkey,
         ADD CONSTRAINT workflow_runs_rerun_of_fkey FOREIGN KEY (rerun_of) REFERENCES workflow_runs(id)
           ON DELETE SET NULL NOT VALID`,
    );
    await q.query(`ALTER TABLE workflow_runs VALIDATE CONSTRAINT workflow_runs_rerun_of_fkey`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_rerun_of_fkey,
         ADD CONSTRAINT workflow_runs_rerun_of_fkey FOREIGN KEY (rerun_of) REFERENCES workflow_runs(id)`,
    );
    await q.query(`DROP INDEX IF EXISTS workflow_runs_rerun_of_idx`);
    await q.query(`ALTER TABLE workflows DROP CONSTRAINT IF EXISTS workflows_run_retention_days_check`);
    await q.query(`ALTER TABLE workflows DROP COLUMN IF EXISTS run_retention_days`);
  }
}
