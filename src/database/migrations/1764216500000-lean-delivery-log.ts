import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Every webhook request writes a delivery row, so each row is kept to what pays for itself:
 *
 * - No foreign key to the trigger. The check ran once per row (a lookup and a key-share lock on the
 *   trigger); the batch insert already skips rows of triggers that no longer exist, and deleting a
 *   trigger deletes its deliveries in the same transaction (WebhookTriggersRepository.delete).
 * - No index on `received_at`. Delivery ids are UUIDv7 whose timestamp is the time received, so pruning
 *   and the `since` filter walk the primary key and the (trigger_id, id) index by id range instead.
 */
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
