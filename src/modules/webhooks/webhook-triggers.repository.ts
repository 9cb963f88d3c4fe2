import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { TriggerSecret } from '../secrets/trigger-secret.entity.js';
import type { WorkflowTriggerSummaries, WorkflowTriggerSummary } from '../workflows/workflow-triggers.port.js';
import { WebhookTrigger } from './webhook-trigger.entity.js';

export interface TriggerForIngest {
  id: string;
  workflowId: string;
  scheme: string;
  /** As stored: the cache validates them again, so that a row changed by hand cannot widen what verifies. */
  options: unknown;
  toleranceSeconds: number;
  filter: string | null;
  active: boolean;
  secrets: TriggerSecret[];
}

@Injectable()
export class WebhookTriggersRepository implements WorkflowTriggerSummaries {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async summariesOf(workflowIds: readonly string[]): Promise<Map<string, WorkflowTriggerSummary>> {
    if (workflowIds.length === 0) return new Map();
    const rows = await this.dataSource.manager
      .createQueryBuilder(WebhookTrigger, 't')
      .select(['t.workflowId', 't.slug', 't.scheme', 't.enabled'])
      .where('t.workflow_id IN (:...workflowIds)', { workflowIds })
      .getMany();
    return new Map(rows.map((t) => [t.workflowId, { slug: t.slug, scheme: t.scheme, enabled: t.enabled }]));
  }

  /** False when the workflow already has one. */
  async insertWithSecret(trigger: WebhookTrigger, secret: TriggerSecret): Promise<boolean> {
    return this.dataSource.transaction(async (tx) => {
      const inserted: unknown[] = await tx.query(
        `INSERT INTO webhook_triggers
           (id, workflow_id, slug, scheme, options, enabled, tolerance_seconds, filter, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $9)
         ON CONFLICT (workflow_id) DO NOTHING RETURNING id`,
        [
          trigger.id,
          trigger.workflowId,
          trigger.slug,
          trigger.scheme,
          JSON.stringify(trigger.options),
          trigger.enabled,
          trigger.toleranceSeconds,
          trigger.filter,
          trigger.createdAt,
        ],
      );
      if (inserted.length === 0) return false;
      await tx.insert(TriggerSecret, secret);
      return true;
    });
  }

  findByWorkflow(workflowId: string): Promise<WebhookTrigger | null> {
    return this.dataSource.manager.findOneBy(WebhookTrigger, { workflowId });
  }

  /** One transaction: a scheme change and the secret it needs take effect together or not at all. */
  async update(
    id: string,
    changes: Partial<Pick<WebhookTrigger, 'enabled' | 'toleranceSeconds' | 'scheme' | 'options' | 'filter'>>,
    now: Date,
    replacementSecret?: TriggerSecret,
  ): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.update(WebhookTrigger, { id }, { ...changes, updatedAt: now });
      if (replacementSecret) {
        await tx.query('DELETE FROM webhook_trigger_secrets WHERE trigger_id = $1', [id]);
        await tx.insert(TriggerSecret, replacementSecret);
      }
    });
  }

  async delete(id: string): Promise<void> {
    await this.dataSource.manager.delete(WebhookTrigger, { id });
  }

  async findForIngest(slug: string, now: Date): Promise<TriggerForIngest | null> {
    const rows: {
      id: string;
      workflow_id: string;
      scheme: string;
      options: unknown;
      tolerance_seconds: number;
      filter: string | null;
      active: boolean;
      secrets: { id: string; ciphertext: string; created_at: string; expires_at: string | null }[];
    }[] = await this.dataSource.query(
      `SELECT t.id, t.workflow_id, t.scheme, t.options, t.tolerance_seconds, t.filter,
              (t.enabled AND w.enabled AND w.deleted_at IS NULL) AS active,
              COALESCE((SELECT json_agg(json_build_object('id', s.id, 'ciphertext', s.ciphertext,
                                 'created_at', s.created_at, 'expires_at', s.expires_at) ORDER BY s.created_at DESC)
                          FROM webhook_trigger_secrets s
                         WHERE s.trigger_id = t.id AND (s.expires_at IS NULL OR s.expires_at > $2)), '[]') AS secrets
         FROM webhook_triggers t JOIN workflows w ON w.id = t.workflow_id
        WHERE t.slug = $1`,
      [slug, now],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: row.id,
      workflowId: row.workflow_id,
      scheme: row.scheme,
      options: row.options,
      toleranceSeconds: row.tolerance_seconds,
      filter: row.filter,
      active: row.active,
      secrets: row.secrets.map((s) => ({
        id: s.id,
        triggerId: row.id,
        ciphertext: s.ciphertext,
        createdAt: new Date(s.created_at),
        expiresAt: s.expires_at === null ? null : new Date(s.expires_at),
      })),
    };
  }
}
