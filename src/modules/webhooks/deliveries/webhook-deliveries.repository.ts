import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

import { firstIdAt } from '../../../common/ids.util.js';
import { PG_POOL } from '../../../database/database.module.js';
import { preparedQuery } from '../../../database/prepared-query.helper.js';
import { WebhookDelivery, type DeliveryOutcome } from './webhook-delivery.entity.js';

interface DeliveryRowFilter {
  triggerId: string;
  outcome?: DeliveryOutcome;
  fromId: string | null;
  beforeId: string | null;
  limit: number;
}

const COLUMNS = `id, trigger_id, workflow_id, received_at, outcome, status_code, error_code, body_bytes, body_sha256,
  delivery_id, run_id, request_id, reason`;

// Rows of a trigger deleted meanwhile are skipped; ids make a retried batch insert nothing twice.
const INSERT_DELIVERIES = `INSERT INTO webhook_deliveries (${COLUMNS})
  SELECT ${COLUMNS}
    FROM json_to_recordset($1::json) AS r(id uuid, trigger_id uuid, workflow_id uuid, received_at timestamptz,
         outcome text, status_code int, error_code text, body_bytes bigint, body_sha256 text, delivery_id text,
         run_id uuid, request_id text, reason text)
   WHERE EXISTS (SELECT 1 FROM webhook_triggers t WHERE t.id = r.trigger_id)
  ON CONFLICT (id) DO NOTHING`;

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(PG_POOL) private readonly pool: Pool,
  ) {}

  async insertMany(deliveries: readonly WebhookDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    const records = deliveries.map((d) => ({
      id: d.id,
      trigger_id: d.triggerId,
      workflow_id: d.workflowId,
      received_at: d.receivedAt.toISOString(),
      outcome: d.outcome,
      status_code: d.statusCode,
      error_code: d.errorCode,
      body_bytes: d.bodyBytes,
      body_sha256: d.bodySha256,
      delivery_id: d.deliveryId,
      run_id: d.runId,
      request_id: d.requestId,
      reason: d.reason,
    }));
    await preparedQuery(this.pool, INSERT_DELIVERIES, [JSON.stringify(records)]);
  }

  list(filter: DeliveryRowFilter): Promise<WebhookDelivery[]> {
    const query = this.dataSource.manager
      .createQueryBuilder(WebhookDelivery, 'd')
      .where('d.trigger_id = :triggerId', { triggerId: filter.triggerId })
      .orderBy('d.id', 'DESC')
      .limit(filter.limit);
    if (filter.outcome) query.andWhere('d.outcome = :outcome', { outcome: filter.outcome });
    if (filter.fromId) query.andWhere('d.id >= :fromId', { fromId: filter.fromId });
    if (filter.beforeId) query.andWhere('d.id < :beforeId', { beforeId: filter.beforeId });
    return query.getMany();
  }

  /** SKIP LOCKED: pruners in several processes do not wait on each other. */
  async deleteReceivedBefore(before: Date, batchSize: number): Promise<number> {
    const result: unknown = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE id < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [firstIdAt(before), batchSize],
    );
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }

  async deleteForTrigger(triggerId: string): Promise<void> {
    await this.dataSource.manager.delete(WebhookDelivery, { triggerId });
  }
}
