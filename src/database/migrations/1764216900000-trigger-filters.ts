import type { MigrationInterface, QueryRunner } from 'typeorm';

// A trigger's JSONata filter, and the two delivery outcomes it adds; `reason` holds why a filter failed.
export class TriggerFilters1764216900000 implements MigrationInterface {
  name = 'TriggerFilters1764216900000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_triggers ADD COLUMN filter text`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN reason text`);
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_outcome_check`);
    await q.query(
      `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_outcome_check
         CHECK (outcome IN ('accepted', 'replayed', 'rejected', 'filtered', 'filter_failed'))`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM webhook_deliveries WHERE outcome IN ('filtered', 'filter_failed')`);
    await q.query(`ALTER TABLE webhook_deliveries DROP CONSTRAINT IF EXISTS webhook_deliveries_outcome_check`);
    await q.query(
      `ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_outcome_check
         CHECK (outcome IN ('accepted', 'replayed', 'rejected'))`,
    );
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS reason`);
    await q.query(`ALTER TABLE webhook_triggers DROP COLUMN IF EXISTS filter`);
  }
}
