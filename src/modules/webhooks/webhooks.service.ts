import { hash } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import type { RunResponse } from '../runs/dto/run.dto.js';
import type { InsertedRun } from '../runs/runs.repository.js';
import { RunsService, type RunWait } from '../runs/runs.service.js';
import { TriggerRateLimiter } from './trigger-rate.limiter.js';
import { webhookInputJson } from './webhook-body.parser.js';
import type { HandshakeAnswer } from './verification/webhook-scheme.interface.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';

/** `ended`: with a wait, the run as it ended in time. */
type WebhookOutcome =
  { kind: 'run'; run: InsertedRun; ended: RunResponse | null } | { kind: 'handshake'; answer: HandshakeAnswer };

@Injectable()
export class WebhooksService {
  constructor(
    private readonly runs: RunsService,
    private readonly rateLimiter: TriggerRateLimiter,
  ) {}

  /** The run's row also logs the delivery, so that it needs no delivery row of its own. */
  async accept(
    webhook: VerifiedWebhook,
    contentType: string | undefined,
    rawBody: Buffer,
    requestId: string,
    wait: RunWait | null = null,
  ): Promise<WebhookOutcome> {
    this.rateLimiter.take(webhook.trigger.id);
    const answer = webhook.trigger.scheme.handshake?.(rawBody, contentType);
    if (answer) return { kind: 'handshake', answer };
    const request = {
      workflowId: webhook.trigger.workflowId,
      triggerId: webhook.trigger.id,
      webhookId: webhook.deliveryId,
      inputJson: webhookInputJson(contentType, rawBody),
      delivery: { requestId, bodyBytes: rawBody.length, bodySha256: hash('sha256', rawBody, 'hex') },
      deadline: webhook.deadline,
    };
    if (wait) return { kind: 'run', ...(await this.runs.startFromWebhookAndWait(request, wait)) };
    return { kind: 'run', run: await this.runs.startFromWebhook(request), ended: null };
  }
}
