import { Inject, Injectable } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../../config/app-config.js';
import { decodeCursor, toPage, type Page } from '../../../common/pagination.js';
import {
  toWebhookDeliveryResponse,
  type ListDeliveriesQueryDto,
  type WebhookDeliveryResponse,
} from '../dto/webhook-delivery.dto.js';
import { WebhookTriggersService } from '../webhook-triggers.service.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';

@Injectable()
export class WebhookDeliveriesService {
  constructor(
    private readonly deliveries: WebhookDeliveriesRepository,
    private readonly triggers: WebhookTriggersService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The deliveries of the workflow's current trigger, newest first. */
  async list(workflowId: string, query: ListDeliveriesQueryDto): Promise<Page<WebhookDeliveryResponse>> {
    const trigger = await this.triggers.find(workflowId);
    const limit = query.limit ?? 20;
    const rows = await this.deliveries.list({
      triggerId: trigger.id,
      workflowId,
      retainedFrom: new Date(Date.now() - this.config.deliveryRetentionHours * 3_600_000),
      outcome: query.outcome,
      since: query.since === undefined ? undefined : new Date(query.since),
      beforeId: decodeCursor(query.cursor),
      limit,
    });
    return toPage(rows, limit, toWebhookDeliveryResponse);
  }
}
