import type { MigrationInterface, QueryRunner } from 'typeorm';

// The trigger FK cost a lookup and lock per row; UUIDv7 ids make a received_at index redundant.
export class LeanDeliveryLog1764216500000 implements MigrationInterface {
  name = 'LeanDeliveryLog1764216500000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_trigger_id_fkey`);
    await q.query(`DROP INDEX IF EXISTS webhook_deliveries_received_idx`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX IF NOT EXISTS webhook_deliveries_received_idx ON webhook_deliveries (received_at)`);
    await q.query(
      `DELETE FROM webhook_deliveries d WHERE NOT EXISTS (SELECT 1 FROM webhook_triggers t WHERE t.id = d.trigger_id)`,
    );
    await q.query(
      `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_trigger_id_fkey
         FOREIGN KEY (trigger_id) REFERENCES webhook_triggers(id) ON DELETE CASCADE`,
    );
  }
}
