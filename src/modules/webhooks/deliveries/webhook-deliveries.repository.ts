import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';

import { firstIdAt } from '../../../common/ids.js';
import { poolOf, preparedQuery } from '../../../database/sql.js';
import type { DeliveryOutcome, WebhookDelivery } from './webhook-delivery.js';

export interface DeliveryFilter {
  triggerId: string;
  /** The trigger's workflow: the runs it started are listed from that workflow's runs. */
  workflowId: string;
  /** Runs created before this are past the log's retention and not listed (delivery rows are pruned). */
  retainedFrom: Date;
  outcome?: DeliveryOutcome;
  since?: Date;
  /** Only deliveries older than this id (the cursor). */
  beforeId: string | null;
  limit: number;
}

interface DeliveryRow {
  id: string;
  trigger_id: string;
  workflow_id: string;
  received_at: Date;
  outcome: DeliveryOutcome;
  status_code: number;
  error_code: string | null;
  body_bytes: string | null;
  body_sha256: string | null;
  delivery_id: string | null;
  run_id: string | null;
  request_id: string | null;
}

const COLUMNS = `id, trigger_id, workflow_id, received_at, outcome, status_code, error_code, body_bytes, body_sha256,
  delivery_id, run_id, request_id`;

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Many deliveries in one statement. Rows of a trigger deleted meanwhile are skipped (deleting a trigger
   * deletes its deliveries; a batch racing that delete may leave a few rows, which pruning removes); ids
   * make a retried batch insert nothing twice.
   */
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
    }));
    await preparedQuery(
      poolOf(this.dataSource),
      `INSERT INTO webhook_deliveries (${COLUMNS})
       SELECT ${COLUMNS}
         FROM json_to_recordset($1::json) AS r(id uuid, trigger_id uuid, workflow_id uuid, received_at timestamptz,
              outcome text, status_code int, error_code text, body_bytes bigint, body_sha256 text, delivery_id text,
              run_id uuid, request_id text)
        WHERE EXISTS (SELECT 1 FROM webhook_triggers t WHERE t.id = r.trigger_id)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(records)],
    );
  }

  /**
   * A trigger's deliveries, newest first, `limit + 1` of them so that the caller knows whether more
   * follow: the rows of `webhook_deliveries` (replays, rejections, Slack's handshake, and deliveries
   * from before runs logged their own) merged with the runs the trigger started, each run standing for
   * the delivery that started it (its id is the run's). Both kinds of id are UUIDv7 of the time
   * received, so one id order, one cursor, and `since` as an id range serve both, each on an index:
   * (trigger_id, id) for delivery rows, (workflow_id, id) for runs.
   */
  async list(filter: DeliveryFilter): Promise<WebhookDelivery[]> {
    const since = filter.since ? firstIdAt(filter.since) : null;
    const retained = firstIdAt(filter.retainedFrom);
    const rows: DeliveryRow[] = await this.dataSource.query(
      `(SELECT ${COLUMNS} FROM webhook_deliveries
         WHERE trigger_id = $1
           AND ($3::text IS NULL OR outcome = $3)
           AND ($4::uuid IS NULL OR id >= $4)
           AND ($5::uuid IS NULL OR id < $5)
         ORDER BY id DESC
         LIMIT $6)
       UNION ALL
       (SELECT id, trigger_id, workflow_id, created_at AS received_at, 'accepted' AS outcome, 202 AS status_code,
               NULL AS error_code, body_bytes::bigint, body_sha256, webhook_id AS delivery_id, id AS run_id, request_id
          FROM workflow_runs
         WHERE workflow_id = $2 AND trigger_id = $1 AND body_sha256 IS NOT NULL
           AND ($3::text IS NULL OR $3 = 'accepted')
           AND id >= GREATEST($4::uuid, $7::uuid)
           AND ($5::uuid IS NULL OR id < $5)
         ORDER BY id DESC
         LIMIT $6)
       ORDER BY id DESC
       LIMIT $6`,
      [filter.triggerId, filter.workflowId, filter.outcome ?? null, since, filter.beforeId, filter.limit + 1, retained],
    );
    return rows.map(toDelivery);
  }

  /**
   * Deletes up to `batchSize` deliveries received before `before`, oldest first, by id range on the
   * primary key (ids are UUIDv7 of the time received); returns how many. Rows another process is
   * deleting are skipped, so that several processes pruning at once do not wait on each other.
   */
  async deleteReceivedBefore(before: Date, batchSize: number): Promise<number> {
    const result: unknown = await this.dataSource.query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries WHERE id < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [firstIdAt(before), batchSize],
    );
    // TypeORM answers a DELETE with [rows, affected].
    return Array.isArray(result) && typeof result[1] === 'number' ? result[1] : 0;
  }
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    triggerId: row.trigger_id,
    workflowId: row.workflow_id,
    receivedAt: row.received_at,
    outcome: row.outcome,
    statusCode: row.status_code,
    errorCode: row.error_code,
    bodyBytes: row.body_bytes === null ? null : Number(row.body_bytes),
    bodySha256: row.body_sha256,
    deliveryId: row.delivery_id,
    runId: row.run_id,
    requestId: row.request_id,
  };
}
