import { Injectable } from '@nestjs/common';

import type { InsertedRun } from '../runs/runs.repository.js';
import { RunsService } from '../runs/runs.service.js';
import { TriggerRateLimiter } from './trigger-rate-limiter.js';
import { webhookInputJson } from './webhook-body.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';

@Injectable()
export class WebhooksService {
  constructor(
    private readonly runs: RunsService,
    private readonly rateLimiter: TriggerRateLimiter,
  ) {}

  /** A verified delivery becomes a queued run, or the run its webhook id already started. */
  async accept(webhook: VerifiedWebhook, contentType: string | undefined, rawBody: Buffer): Promise<InsertedRun> {
    this.rateLimiter.take(webhook.trigger.id);
    return this.runs.startFromWebhook({
      workflowId: webhook.trigger.workflowId,
      triggerId: webhook.trigger.id,
      webhookId: webhook.deliveryId,
      inputJson: webhookInputJson(contentType, rawBody),
    });
  }
}
