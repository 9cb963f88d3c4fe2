import type { MigrationInterface, QueryRunner } from 'typeorm';

// Secrets for http steps, by name. The value is a SecretCipher token bound to the name (associated data), so a
// token copied to another row does not open. Which workflows use a secret is read from their definitions.
export class StepSecrets1764217400000 implements MigrationInterface {
  name = 'StepSecrets1764217400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS step_secrets (
        name text PRIMARY KEY CHECK (name ~ '^[A-Z][A-Z0-9_]{0,63}$'),
        ciphertext text NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS step_secrets`);
  }
}
