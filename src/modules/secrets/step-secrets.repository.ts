import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import type { WorkflowSecretNames } from '../workflows/workflow-secrets.port.js';
import { StepSecret } from './step-secret.entity.js';

/** A secret's fields without its ciphertext: what lists and reads need. */
export type StepSecretSummary = Omit<StepSecret, 'ciphertext'>;

interface StepSecretRow {
  name: string;
  ciphertext: string;
  created_at: Date;
  updated_at: Date;
}

@Injectable()
export class StepSecretsRepository implements WorkflowSecretNames {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** One statement: two PUTs of a new name at once give one row, one `created` and one replacement. */
  async upsert(secret: StepSecret): Promise<{ secret: StepSecretSummary; created: boolean }> {
    const [row]: (StepSecretRow & { created: boolean })[] = await this.dataSource.query(
      `INSERT INTO step_secrets AS s (name, ciphertext, created_at, updated_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (name) DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = excluded.updated_at
       RETURNING s.name, s.created_at, s.updated_at, (s.xmax = 0) AS created`,
      [secret.name, secret.ciphertext, secret.updatedAt],
    );
    return { secret: summaryOf(row), created: row.created };
  }

  async findSummary(name: string): Promise<StepSecretSummary | null> {
    const rows: StepSecretRow[] = await this.dataSource.query(
      'SELECT name, created_at, updated_at FROM step_secrets WHERE name = $1',
      [name],
    );
    return rows.length === 0 ? null : summaryOf(rows[0]);
  }

  /** By name; `limit + 1` rows, so that the caller knows whether a next page exists. */
  async list(limit: number, afterName: string | null): Promise<StepSecretSummary[]> {
    const rows: StepSecretRow[] = await this.dataSource.query(
      `SELECT name, created_at, updated_at FROM step_secrets
        WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2`,
      [afterName, limit + 1],
    );
    return rows.map(summaryOf);
  }

  /** The rows a step needs, in one query when it starts. */
  async findByNames(names: readonly string[]): Promise<StepSecret[]> {
    if (names.length === 0) return [];
    const rows: StepSecretRow[] = await this.dataSource.query(
      'SELECT name, ciphertext, created_at, updated_at FROM step_secrets WHERE name = ANY($1::text[])',
      [names],
    );
    return rows.map((row) => ({ ...summaryOf(row), ciphertext: row.ciphertext }));
  }

  async existingOf(names: readonly string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows: { name: string }[] = await this.dataSource.query(
      'SELECT name FROM step_secrets WHERE name = ANY($1::text[])',
      [names],
    );
    return new Set(rows.map((row) => row.name));
  }

  async delete(name: string): Promise<boolean> {
    const rows: { name: string }[] = await this.dataSource.query(
      'DELETE FROM step_secrets WHERE name = $1 RETURNING name',
      [name],
    );
    return rows.length > 0;
  }

  /** Rows locked and rewritten in one transaction: a PUT of the same name waits, and is not overwritten. */
  async rewriteBatch(
    afterName: string | null,
    limit: number,
    rewrite: (row: StepSecret) => string | null,
  ): Promise<{ lastName: string | null; scanned: number; rewritten: number }> {
    return this.dataSource.transaction(async (tx) => {
      const rows: StepSecretRow[] = await tx.query(
        `SELECT name, ciphertext, created_at, updated_at FROM step_secrets
          WHERE $1::text IS NULL OR name > $1 ORDER BY name LIMIT $2 FOR UPDATE`,
        [afterName, limit],
      );
      const names: string[] = [];
      const ciphertexts: string[] = [];
      for (const row of rows) {
        const next = rewrite({ ...summaryOf(row), ciphertext: row.ciphertext });
        if (next !== null) {
          names.push(row.name);
          ciphertexts.push(next);
        }
      }
      // updated_at stays: the value did not change, only the key that protects it.
      if (names.length > 0) {
        await tx.query(
          `UPDATE step_secrets s SET ciphertext = v.ciphertext
             FROM unnest($1::text[], $2::text[]) AS v(name, ciphertext) WHERE s.name = v.name`,
          [names, ciphertexts],
        );
      }
      return { lastName: rows.at(-1)?.name ?? null, scanned: rows.length, rewritten: names.length };
    });
  }
}

function summaryOf(row: StepSecretRow): StepSecretSummary {
  return { name: row.name, createdAt: row.created_at, updatedAt: row.updated_at };
}
