import { Inject, Injectable } from '@nestjs/common';

import { firstIdAt } from '../../../common/ids.util.js';
import { decodeCursor, toPage, type Page } from '../../../common/pagination.util.js';
import { APP_CONFIG, type AppConfig } from '../../../config/app.config.js';
import type { WebhookRunDelivery } from '../../runs/runs.repository.js';
import { RunsService } from '../../runs/runs.service.js';
import {
  toWebhookDeliveryResponse,
  type ListDeliveriesQueryDto,
  type WebhookDeliveryResponse,
} from '../dto/webhook-delivery.dto.js';
import { WebhookTriggersService } from '../webhook-triggers.service.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import type { WebhookDelivery } from './webhook-delivery.entity.js';

@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly triggers: WebhookTriggersService,
    private readonly runs: RunsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The log's rows merged with the runs the trigger started: both ids are UUIDv7, so one order, one cursor. */
  async list(workflowId: string, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryResponse>> {
    const trigger = await this.triggers.find(workflowId);
    const limit = query.limit ?? 20;
    const since = query.since === undefined ? null : firstIdAt(new Date(query.since));
    // Runs outlive the log's retention; the deliveries they stand for do not.
    const retained = firstIdAt(new Date(Date.now() - this.config.deliveryRetentionHours * 3_600_000));
    const beforeId = decodeCursor(query.cursor);
    const [rows, runs] = await Promise.all([
      this.deliveries.list({
        triggerId: trigger.id,
        outcome: query.outcome,
        fromId: since,
        beforeId,
        limit: limit + 1,
      }),
      query.outcome === undefined || query.outcome === 'accepted'
        ? this.runs.listWebhookDeliveries({
            triggerId: trigger.id,
            workflowId,
            fromId: since !== null && since > retained ? since : retained,
            beforeId,
            limit: limit + 1,
          })
        : [],
    ]);
    const merged = [...rows, ...runs.map(asDelivery)].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    return toPage(merged.slice(0, limit + 1), limit, toWebhookDeliveryResponse);
  }
}

function asDelivery(run: WebhookRunDelivery): WebhookDelivery {
  return {
    id: run.id,
    triggerId: run.triggerId,
    workflowId: run.workflowId,
    receivedAt: run.receivedAt,
    outcome: 'accepted',
    statusCode: 202,
    errorCode: null,
    bodyBytes: run.bodyBytes,
    bodySha256: run.bodySha256,
    deliveryId: run.webhookId,
    runId: run.id,
    requestId: run.requestId,
    reason: null,
  };
}
