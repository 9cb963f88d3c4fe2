import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

import { TriggerSecret } from './trigger-secret.entity.js';

/** Rotated-out secrets kept verifying at once, at most (the oldest go first). */
const MAX_PREVIOUS_SECRETS = 10;

@Injectable()
export class TriggerSecretsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async insert(secret: TriggerSecret, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.insert(TriggerSecret, secret);
  }

  findUnexpired(triggerId: string, now: Date): Promise<TriggerSecret[]> {
    return this.dataSource.manager
      .createQueryBuilder(TriggerSecret, 's')
      .where('s.trigger_id = :triggerId AND (s.expires_at IS NULL OR s.expires_at > :now)', { triggerId, now })
      .orderBy('s.created_at', 'DESC')
      .getMany();
  }

  /** The trigger row is locked: two rotations at once cannot leave two current secrets. */
  async rotate(next: TriggerSecret, previousExpiresAt: Date, now: Date): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM webhook_triggers WHERE id = $1 FOR UPDATE', [next.triggerId]);
      await tx.query(
        `UPDATE webhook_trigger_secrets SET expires_at = LEAST(COALESCE(expires_at, $2), $2)
          WHERE trigger_id = $1`,
        [next.triggerId, previousExpiresAt],
      );
      await tx.query(
        `DELETE FROM webhook_trigger_secrets WHERE trigger_id = $1 AND (expires_at <= $2 OR id IN (
           SELECT id FROM webhook_trigger_secrets WHERE trigger_id = $1
            ORDER BY created_at DESC OFFSET $3))`,
        [next.triggerId, now, MAX_PREVIOUS_SECRETS],
      );
      await tx.insert(TriggerSecret, next);
    });
  }

  /** Rows locked and rewritten in one transaction: a rotation of the same trigger waits, not overwritten. */
  async rewriteBatch(
    afterId: string | null,
    limit: number,
    rewrite: (row: TriggerSecret) => string | null,
  ): Promise<{ lastId: string | null; scanned: number; rewritten: number }> {
    return this.dataSource.transaction(async (tx) => {
      const rows: { id: string; trigger_id: string; ciphertext: string; created_at: Date; expires_at: Date | null }[] =
        await tx.query(
          `SELECT id, trigger_id, ciphertext, created_at, expires_at FROM webhook_trigger_secrets
            WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2 FOR UPDATE`,
          [afterId, limit],
        );
      const ids: string[] = [];
      const ciphertexts: string[] = [];
      for (const row of rows) {
        const next = rewrite({
          id: row.id,
          triggerId: row.trigger_id,
          ciphertext: row.ciphertext,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
        });
        if (next !== null) {
          ids.push(row.id);
          ciphertexts.push(next);
        }
      }
      if (ids.length > 0) {
        await tx.query(
          `UPDATE webhook_trigger_secrets s SET ciphertext = v.ciphertext
             FROM unnest($1::uuid[], $2::text[]) AS v(id, ciphertext) WHERE s.id = v.id`,
          [ids, ciphertexts],
        );
      }
      return { lastId: rows.at(-1)?.id ?? null, scanned: rows.length, rewritten: ids.length };
    });
  }
}
