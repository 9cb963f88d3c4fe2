import type { MigrationInterface, QueryRunner } from 'typeorm';

const FLOW_FIELDS = `definition ?| array['concurrency', 'throttle', 'debounce']`;

// Runs of flow-controlled workflows are marked at insert (from a generated column, so nothing has to keep it in
// sync) and take the admission path; the others keep the plain claim. No new index reads a column a claim writes
// (status, attempt, started_at), so claims stay HOT updates.
export class FlowControl1764217200000 implements MigrationInterface {
  name = 'FlowControl1764217200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE workflows ADD COLUMN flow_control boolean GENERATED ALWAYS AS (${FLOW_FIELDS}) STORED`);
    await q.query(
      `ALTER TABLE workflow_versions ADD COLUMN flow_control boolean GENERATED ALWAYS AS (${FLOW_FIELDS}) STORED`,
    );
    await q.query(
      `ALTER TABLE workflow_runs
         ADD COLUMN flow_control boolean NOT NULL DEFAULT false,
         ADD COLUMN concurrency_key text,
         ADD COLUMN throttle_key text,
         ADD COLUMN debounce_key text,
         ADD COLUMN debounce_until timestamptz,
         ADD COLUMN debounce_chain_at timestamptz,
         ADD COLUMN superseded_by uuid`,
    );
    for (const kind of ['concurrency', 'throttle', 'debounce']) {
      await q.query(
        `CREATE INDEX workflow_runs_${kind}_key_idx ON workflow_runs (workflow_id, ${kind}_key, id)
          WHERE completed_at IS NULL AND ${kind}_key IS NOT NULL`,
      );
    }
    // Starts of throttled runs: a table of its own, as an index on workflow_runs.started_at would end HOT claims.
    await q.query(`
      CREATE TABLE flow_throttle_starts (
        workflow_id uuid NOT NULL,
        throttle_key text NOT NULL,
        started_at timestamptz NOT NULL,
        run_id uuid NOT NULL
      )`);
    await q.query(
      `CREATE INDEX flow_throttle_starts_key_idx ON flow_throttle_starts (workflow_id, throttle_key, started_at)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS flow_throttle_starts`);
    for (const kind of ['concurrency', 'throttle', 'debounce']) {
      await q.query(`DROP INDEX IF EXISTS workflow_runs_${kind}_key_idx`);
    }
    await q.query(
      `ALTER TABLE workflow_runs
         DROP COLUMN IF EXISTS flow_control, DROP COLUMN IF EXISTS concurrency_key, DROP COLUMN IF EXISTS throttle_key,
         DROP COLUMN IF EXISTS debounce_key, DROP COLUMN IF EXISTS debounce_until,
         DROP COLUMN IF EXISTS debounce_chain_at, DROP COLUMN IF EXISTS superseded_by`,
    );
    await q.query(`ALTER TABLE workflow_versions DROP COLUMN IF EXISTS flow_control`);
    await q.query(`ALTER TABLE workflows DROP COLUMN IF EXISTS flow_control`);
  }
}
