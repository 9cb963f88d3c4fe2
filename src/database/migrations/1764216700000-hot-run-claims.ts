import type { MigrationInterface, QueryRunner } from 'typeorm';

// Claims become HOT updates: no index reads `status` (a CHECK ties it to completed_at) and pages keep 20 % free.
export class HotRunClaims1764216700000 implements MigrationInterface {
  name = 'HotRunClaims1764216700000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE workflow_runs SET completed_at = COALESCE(started_at, created_at)
        WHERE completed_at IS NULL AND status NOT IN ('queued', 'running')`,
    );
    await q.query(
      `UPDATE workflow_runs SET completed_at = NULL WHERE completed_at IS NOT NULL AND status IN ('queued', 'running')`,
    );
    await q.query(
      `ALTER TABLE workflow_runs ADD CONSTRAINT workflow_runs_completed_when_finished
         CHECK ((completed_at IS NULL) = (status IN ('queued', 'running')))`,
    );
    await q.query(`DROP INDEX IF EXISTS workflow_runs_unfinished_idx`);
    await q.query(
      `CREATE INDEX workflow_runs_unfinished_idx ON workflow_runs (checked_at NULLS FIRST, id) WHERE completed_at IS NULL`,
    );
    await q.query(`ALTER TABLE workflow_runs SET (fillfactor = 80)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_runs RESET (fillfactor)`);
    await q.query(`DROP INDEX IF EXISTS workflow_runs_unfinished_idx`);
    await q.query(
      `CREATE INDEX workflow_runs_unfinished_idx ON workflow_runs (checked_at NULLS FIRST, id)
        WHERE status IN ('queued', 'running')`,
    );
    await q.query(`ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_completed_when_finished`);
  }
}
