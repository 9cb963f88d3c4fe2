import type { MigrationInterface, QueryRunner } from 'typeorm';

// FK checks from runs contended on one workflow row (multixacts) and guarded nothing; the status index churned.
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
