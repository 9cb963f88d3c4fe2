import { Injectable } from '@nestjs/common';

import type { InsertedRun } from '../runs/runs.repository.js';
import { RunsService } from '../runs/runs.service.js';
import { webhookInputJson } from './webhook-body.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';

@Injectable()
export class WebhooksService {
  constructor(private readonly runs: RunsService) {}

  /** A verified delivery becomes a queued run, or the run its webhook id already started. */
  accept(webhook: VerifiedWebhook, contentType: string | undefined, rawBody: Buffer): Promise<InsertedRun> {
    return this.runs.startFromWebhook({
      workflowId: webhook.trigger.workflowId,
      triggerId: webhook.trigger.id,
      webhookId: webhook.deliveryId,
      inputJson: webhookInputJson(contentType, rawBody),
    });
  }
}
