import type { MigrationInterface, QueryRunner } from 'typeorm';

// A delivery that starts a run is logged in the run's row, so the ingest path writes one row, not two.
export class AcceptedDeliveriesInRuns1764216600000 implements MigrationInterface {
  name = 'AcceptedDeliveriesInRuns1764216600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE workflow_runs ADD COLUMN request_id text, ADD COLUMN body_bytes integer, ADD COLUMN body_sha256 text`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `INSERT INTO webhook_deliveries
         (id, trigger_id, workflow_id, received_at, outcome, status_code, body_bytes, body_sha256, delivery_id, run_id, request_id)
       SELECT id, trigger_id, workflow_id, created_at, 'accepted', 202, body_bytes, body_sha256, webhook_id, id, request_id
         FROM workflow_runs WHERE body_sha256 IS NOT NULL AND trigger_id IS NOT NULL
       ON CONFLICT (id) DO NOTHING`,
    );
    await q.query(`ALTER TABLE workflow_runs DROP COLUMN request_id, DROP COLUMN body_bytes, DROP COLUMN body_sha256`);
  }
}
