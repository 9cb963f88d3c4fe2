import type { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1764216000000 implements MigrationInterface {
  name = 'InitialSchema1764216000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        prefix text NOT NULL,
        key_hash text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE workflows (
        id uuid PRIMARY KEY,
        name text NOT NULL,
        description text,
        enabled boolean NOT NULL DEFAULT true,
        version int NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE workflow_versions (
        workflow_id uuid NOT NULL REFERENCES workflows(id),
        version int NOT NULL,
        definition jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (workflow_id, version)
      )`);
    await q.query(`
      CREATE TABLE webhook_triggers (
        id uuid PRIMARY KEY,
        workflow_id uuid NOT NULL UNIQUE REFERENCES workflows(id),
        slug text NOT NULL UNIQUE,
        scheme text NOT NULL,
        enabled boolean NOT NULL DEFAULT true,
        tolerance_seconds int NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE webhook_trigger_secrets (
        id uuid PRIMARY KEY,
        trigger_id uuid NOT NULL REFERENCES webhook_triggers(id) ON DELETE CASCADE,
        ciphertext text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz
      )`);
    await q.query(`CREATE INDEX webhook_trigger_secrets_trigger_idx ON webhook_trigger_secrets (trigger_id)`);
    await q.query(`
      CREATE TABLE workflow_runs (
        id uuid PRIMARY KEY,
        workflow_id uuid NOT NULL REFERENCES workflows(id),
        workflow_version int NOT NULL,
        status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
        trigger_type text NOT NULL CHECK (trigger_type IN ('webhook', 'api', 'rerun')),
        trigger_id uuid,
        webhook_id text,
        idempotency_key text,
        rerun_of uuid REFERENCES workflow_runs(id),
        input jsonb,
        output jsonb,
        error jsonb,
        attempt int NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        completed_at timestamptz,
        FOREIGN KEY (workflow_id, workflow_version) REFERENCES workflow_versions (workflow_id, version)
      )`);
    // Deduplication lives in these unique keys, so concurrent deliveries of one id make one run.
    await q.query(
      `CREATE UNIQUE INDEX workflow_runs_webhook_dedupe ON workflow_runs (trigger_id, webhook_id) WHERE webhook_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX workflow_runs_idempotency_dedupe ON workflow_runs (workflow_id, idempotency_key) WHERE idempotency_key IS NOT NULL`,
    );
    await q.query(`CREATE INDEX workflow_runs_workflow_idx ON workflow_runs (workflow_id, id DESC)`);
    await q.query(`CREATE INDEX workflow_runs_status_idx ON workflow_runs (status, id DESC)`);
    await q.query(`
      CREATE TABLE workflow_run_steps (
        run_id uuid NOT NULL REFERENCES workflow_runs(id) ON DELETE CASCADE,
        step_id text NOT NULL,
        position int NOT NULL,
        type text NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'running', 'waiting', 'completed', 'failed', 'skipped')),
        attempts int NOT NULL DEFAULT 0,
        started_at timestamptz,
        finished_at timestamptz,
        output jsonb,
        error jsonb,
        PRIMARY KEY (run_id, step_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'workflow_run_steps',
      'workflow_runs',
      'webhook_trigger_secrets',
      'webhook_triggers',
      'workflow_versions',
      'workflows',
      'api_keys',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
