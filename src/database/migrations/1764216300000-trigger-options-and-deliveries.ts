import type { MigrationInterface, QueryRunner } from 'typeorm';

export class TriggerOptionsAndDeliveries1764216300000 implements MigrationInterface {
  name = 'TriggerOptionsAndDeliveries1764216300000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_triggers ADD COLUMN options jsonb NOT NULL DEFAULT '{}'::jsonb`);
    // No foreign keys: delivery rows are batch-written after the answer and go with their trigger.
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY,
        trigger_id uuid NOT NULL REFERENCES webhook_triggers(id) ON DELETE CASCADE,
        workflow_id uuid NOT NULL,
        received_at timestamptz NOT NULL,
        outcome text NOT NULL CHECK (outcome IN ('accepted', 'replayed', 'rejected')),
        status_code int NOT NULL,
        error_code text,
        body_bytes bigint,
        body_sha256 text,
        delivery_id text,
        run_id uuid,
        request_id text
      )`);
    await q.query(`CREATE INDEX webhook_deliveries_trigger_idx ON webhook_deliveries (trigger_id, id DESC)`);
    await q.query(`CREATE INDEX webhook_deliveries_received_idx ON webhook_deliveries (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS webhook_deliveries`);
    await q.query(`ALTER TABLE webhook_triggers DROP COLUMN IF EXISTS options`);
  }
}
