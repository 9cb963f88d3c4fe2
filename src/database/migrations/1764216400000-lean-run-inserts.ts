import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every accepted webhook inserts a run, so what each insert must also do is kept to what pays for itself:
 *
 * - No foreign keys from runs to workflows and versions. Each check takes a key-share lock on the same
 *   workflow row, and thousands of concurrent inserts for one workflow contend on it (multixacts).
 *   Workflows are only ever soft-deleted and versions never deleted, so the keys guarded nothing.
 * - No index on (status, id): listing all runs by status walks the primary key newest first instead,
 *   and the status changes of every run (queued, running, completed) no longer rewrite that index.
 */
export class LeanRunInserts1764216400000 implements MigrationInterface {
  name = 'LeanRunInserts1764216400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_workflow_id_fkey`);
    await q.query(
      `ALTER TABLE workflow_runs DROP CONSTRAINT IF EXISTS workflow_runs_workflow_id_workflow_version_fkey`,
    );
    await q.query(`DROP INDEX IF EXISTS workflow_runs_status_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS workflow_runs_status_idx ON workflow_runs (status, id DESC)`);
    await q.query(
      `ALTER TABLE workflow_runs ADD FOREIGN KEY (workflow_id, workflow_version) REFERENCES workflow_versions (workflow_id, version)`,
    );
    await q.query(`ALTER TABLE workflow_runs ADD FOREIGN KEY (workflow_id) REFERENCES workflows(id)`);
  }
}
