import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Lets a run's claim (queued → running) update its row in place, as a HOT update that writes no index:
 *
 * - The reconciler's index of unfinished runs is keyed on `completed_at IS NULL` instead of the status.
 *   An index whose predicate reads `status` made every status change a full update that added an entry
 *   to each of the table's indexes; a claim changes the status but not `completed_at`. A CHECK keeps
 *   the two in step: a run is unfinished exactly while it has no `completed_at`.
 * - Pages are filled to 80 %, so that the new version of a row fits on its page.
 *
 * The status no longer appears in any index, so no query on the runs of a batch (claims, ends) can be
 * planned as a scan of all unfinished runs, which is what the planner chose while thousands queued.
 */
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
