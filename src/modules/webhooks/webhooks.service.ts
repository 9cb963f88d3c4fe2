import { hash } from 'node:crypto';

import { Injectable } from '@nestjs/common';

import { FilterFailedError } from '../../common/domain.error.js';
import type { RunResponse } from '../runs/dto/run.dto.js';
import type { InsertedRun } from '../runs/runs.repository.js';
import { RunsService, type RunWait } from '../runs/runs.service.js';
import { TriggerFilterEvaluator, type FilterHeaders, type TriggerFilter } from './trigger-filter.evaluator.js';
import { TriggerRateLimiter } from './trigger-rate.limiter.js';
import { webhookInputJson } from './webhook-body.parser.js';
import type { HandshakeAnswer } from './verification/webhook-scheme.interface.js';
import type { VerifiedWebhook } from './webhook-verification.service.js';

/** `ended`: with a wait, the run as it ended in time. */
type WebhookOutcome =
  | { kind: 'run'; run: InsertedRun; ended: RunResponse | null }
  | { kind: 'filtered' }
  | { kind: 'handshake'; answer: HandshakeAnswer };

export interface WebhookRequest {
  contentType: string | undefined;
  headers: FilterHeaders;
  rawBody: Buffer;
  requestId: string;
  /** `?wait=`: answer with the run if it ends in time. */
  wait: RunWait | null;
}

@Injectable()
export class WebhooksService {
  constructor(
    private readonly runs: RunsService,
    private readonly rateLimiter: TriggerRateLimiter,
    private readonly filters: TriggerFilterEvaluator,
  ) {}

  /** The run's row also logs the delivery, so that it needs no delivery row of its own. */
  async accept(webhook: VerifiedWebhook, request: WebhookRequest): Promise<WebhookOutcome> {
    const { trigger, deliveryId } = webhook;
    this.rateLimiter.take(trigger.id);
    const { contentType, rawBody } = request;
    const answer = trigger.scheme.handshake?.(rawBody, contentType);
    if (answer) return { kind: 'handshake', answer };
    const inputJson = webhookInputJson(contentType, rawBody);
    let deadline = webhook.deadline;
    if (trigger.filter) {
      const started = Date.now();
      const decided = await this.applyFilter(webhook, trigger.filter, inputJson, request.headers);
      if (decided) return decided;
      // The database gets its whole time, however long the filter took.
      deadline += Date.now() - started;
    }
    const start = {
      workflowId: trigger.workflowId,
      triggerId: trigger.id,
      webhookId: deliveryId,
      inputJson,
      delivery: {
        requestId: request.requestId,
        bodyBytes: rawBody.length,
        bodySha256: hash('sha256', rawBody, 'hex'),
      },
      deadline,
    };
    if (request.wait) return { kind: 'run', ...(await this.runs.startFromWebhookAndWait(start, request.wait)) };
    return { kind: 'run', run: await this.runs.startFromWebhook(start), ended: null };
  }

  /** Undefined when the delivery passes. Filtered deliveries are not remembered: a retry is evaluated again. */
  private async applyFilter(
    webhook: VerifiedWebhook,
    filter: TriggerFilter,
    inputJson: string,
    headers: FilterHeaders,
  ): Promise<WebhookOutcome | undefined> {
    const started = Date.now();
    let failure: FilterFailedError | undefined;
    try {
      if (await this.filters.passes(filter, inputJson, headers)) return undefined;
    } catch (error) {
      if (!(error instanceof FilterFailedError)) throw error;
      failure = error;
    }
    // A retry of an accepted delivery answers as its replay, whatever the filter says of it now.
    const deadline = webhook.deadline + Date.now() - started;
    const first = await this.runs.findWebhookRun(webhook.trigger.id, webhook.deliveryId, deadline);
    if (first) return { kind: 'run', run: first, ended: null };
    if (failure) throw failure;
    return { kind: 'filtered' };
  }
}
