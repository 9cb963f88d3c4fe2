import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';

import { Batcher } from '../../common/batcher.util.js';
import { refusedJsonIsInvalidInput } from '../../common/database-errors.util.js';
import { withTimeout } from '../../common/timeout.util.js';
import { PG_POOL } from '../../database/database.module.js';
import { preparedQuery } from '../../database/prepared-query.helper.js';
import type { InsertedRun, RunDelivery } from './runs.repository.js';
import type { RunStatus } from './run-status.types.js';

export interface NewWebhookRun {
  id: string;
  workflowId: string;
  triggerId: string;
  webhookId: string;
  /** The body as JSON text: it reaches PostgreSQL as received, and `jsonb` is its one parse. */
  inputJson: string;
  delivery: RunDelivery;
}

const WEBHOOK_INSERT_BATCHING = { maxInFlight: 4, maxBatch: 50, keyOf: deliveryKey };

const insertSql = (() => {
  const texts: string[] = [];
  return (count: number): string => {
    texts[count] ??= `INSERT INTO workflow_runs
         (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, input,
          request_id, body_bytes, body_sha256, flow_control)
       VALUES ${Array.from({ length: count }, (_, i) => {
         const p = (n: number) => `$${i * 8 + n}`;
         return `(${p(1)}::uuid, ${p(2)}::uuid, (SELECT version FROM workflows WHERE id = ${p(2)}::uuid), 'queued', 'webhook',
                ${p(3)}::uuid, ${p(4)}::text, ${p(5)}::jsonb, ${p(6)}::text, ${p(7)}::int, ${p(8)}::text,
                (SELECT flow_control FROM workflows WHERE id = ${p(2)}::uuid))`;
       }).join(',\n              ')}
       ON CONFLICT (trigger_id, webhook_id) WHERE webhook_id IS NOT NULL DO NOTHING
       RETURNING id`;
    return texts[count];
  };
})();

function deliveryKey(run: NewWebhookRun): string {
  return `${run.triggerId} ${run.webhookId}`;
}

function byDeliveryKey(a: NewWebhookRun, b: NewWebhookRun): number {
  const [x, y] = [deliveryKey(a), deliveryKey(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

@Injectable()
export class WebhookRunsRepository {
  private readonly inserts: Batcher<NewWebhookRun, boolean>;

  constructor(@Inject(PG_POOL) private readonly pool: Pool) {
    this.inserts = new Batcher((runs) => this.insertBatch(runs), WEBHOOK_INSERT_BATCHING);
  }

  // A body `jsonb` refuses fails its batch, retried run by run; past `deadline` an unsent run is never inserted.
  async insert(run: NewWebhookRun, deadline: number): Promise<InsertedRun> {
    const created = await this.inserts.submit(run, deadline).catch(refusedJsonIsInvalidInput);
    if (created) return { id: run.id, workflowId: run.workflowId, status: 'queued', created: true };
    return this.firstRunOf(run, deadline);
  }

  private async insertBatch(runs: NewWebhookRun[]): Promise<boolean[]> {
    // In dedupe-key order, so that two batches holding the same deliveries wait on each other in one order.
    const sorted = [...runs].sort(byDeliveryKey);
    const params: unknown[] = [];
    for (const run of sorted) {
      params.push(
        run.id,
        run.workflowId,
        run.triggerId,
        run.webhookId,
        run.inputJson,
        run.delivery.requestId,
        run.delivery.bodyBytes,
        run.delivery.bodySha256,
      );
    }
    const inserted = await preparedQuery<{ id: string }>(this.pool, insertSql(sorted.length), params);
    const ids = new Set(inserted.map((row) => row.id));
    return runs.map((run) => ids.has(run.id));
  }

  /** The run a delivery of this id started, if one did. */
  async findByDelivery(triggerId: string, webhookId: string, deadline: number): Promise<InsertedRun | null> {
    const rows = await withTimeout(
      preparedQuery<{ id: string; workflow_id: string; status: RunStatus }>(
        this.pool,
        'SELECT id, workflow_id, status FROM workflow_runs WHERE trigger_id = $1 AND webhook_id = $2',
        [triggerId, webhookId],
      ),
      deadline - Date.now(),
      'Finding the first run',
    );
    if (rows.length === 0) return null;
    return { id: rows[0].id, workflowId: rows[0].workflow_id, status: rows[0].status, created: false };
  }

  private async firstRunOf(run: NewWebhookRun, deadline: number): Promise<InsertedRun> {
    const first = await this.findByDelivery(run.triggerId, run.webhookId, deadline);
    if (!first) throw new Error(`Run insert conflicted on an unexpected key (run ${run.id})`);
    return first;
  }
}
