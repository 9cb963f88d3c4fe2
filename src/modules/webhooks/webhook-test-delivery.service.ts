import type { AddressInfo } from 'node:net';

import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

import { ConflictError, UnavailableError } from '../../common/domain.error.js';
import { newId } from '../../common/ids.util.js';
import { TriggerSecretsService } from '../secrets/trigger-secrets.service.js';
import type { DeliveryOutcome } from './deliveries/webhook-delivery.entity.js';
import type { TestDeliveryResponse } from './dto/test-delivery.dto.js';
import { webhookScheme } from './verification/webhook-scheme.registry.js';
import { WebhookTriggersService } from './webhook-triggers.service.js';

const DELIVERY_TIMEOUT_MS = 10_000;

// Sent over HTTP to this process's own webhook URL, so that it meets exactly what a sender's delivery meets:
// body limits, verification, rate limit, deduplication, the run insert and the delivery log.
@Injectable()
export class WebhookTestDeliveryService {
  constructor(
    private readonly triggers: WebhookTriggersService,
    private readonly secrets: TriggerSecretsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async send(workflowId: string, body: unknown): Promise<TestDeliveryResponse> {
    const trigger = await this.triggers.find(workflowId);
    const scheme = webhookScheme(trigger.scheme);
    const now = new Date();
    const open = await this.secrets.openUnexpired(trigger.id, now);
    const current = open.find((s) => s.expiresAt === null) ?? open[0];
    const rawBody = Buffer.from(JSON.stringify(body), 'utf8');
    const headers =
      scheme && current
        ? scheme.sign({
            rawBody,
            secret: current.secret,
            deliveryId: `msg_test_${newId().replace(/-/g, '')}`,
            nowSeconds: Math.floor(now.getTime() / 1000),
            options: trigger.options,
          })
        : null;
    if (headers === null) {
      throw new ConflictError(
        'trigger_not_signable',
        "This trigger holds only the sender's public key (whpk_): the server cannot sign a test delivery for it",
      );
    }
    const res = await fetch(`${this.ownOrigin()}/webhooks/workflows/${encodeURIComponent(trigger.slug)}`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'hookrun-test-delivery' },
      body: rawBody,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    const answer = (await res.json().catch(() => null)) as {
      data?: { runId?: string; filtered?: boolean };
      error?: { code?: string };
    } | null;
    const result: TestDeliveryResponse = { status: res.status, deliveryOutcome: outcomeOf(res, answer) };
    if (res.status < 300 && answer?.data?.runId) result.runId = answer.data.runId;
    if (res.status >= 400 && answer?.error?.code) result.errorCode = answer.error.code;
    return result;
  }

  private ownOrigin(): string {
    const address = this.adapterHost.httpAdapter?.getHttpServer()?.address() as AddressInfo | string | null;
    if (address === null || typeof address === 'string') {
      throw new UnavailableError('This process does not listen on a TCP port: test deliveries need the API role');
    }
    const any = address.address === '0.0.0.0' || address.address === '::';
    const host = any ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }
}

function outcomeOf(
  res: Response,
  answer: { data?: { filtered?: boolean }; error?: { code?: string } } | null,
): DeliveryOutcome {
  if (res.status >= 300) return answer?.error?.code === 'filter_failed' ? 'filter_failed' : 'rejected';
  if (answer?.data?.filtered === true) return 'filtered';
  return res.headers.get('idempotent-replayed') === 'true' ? 'replayed' : 'accepted';
}
