import { Injectable } from '@nestjs/common';

import { NotFoundError } from '../../common/errors.js';
import { TriggerCache, type ResolvedTrigger } from './trigger-cache.js';
import type { HeaderBag } from './verification/webhook-scheme.js';

export interface VerifiedWebhook {
  trigger: ResolvedTrigger;
  deliveryId: string;
}

/**
 * Decides whether a request may start a run: the slug names an active trigger and one of its
 * unexpired secrets signed these exact bytes. The HMAC and constant-time compare live in the schemes.
 */
@Injectable()
export class WebhookVerificationService {
  constructor(private readonly triggers: TriggerCache) {}

  async verify(slug: string, headers: HeaderBag, rawBody: Buffer): Promise<VerifiedWebhook> {
    const trigger = await this.triggers.get(slug);
    if (!trigger || !trigger.active) throw new NotFoundError('trigger', undefined, 'trigger_not_found');
    const now = Date.now();
    const keys = trigger.keys.filter((k) => k.expiresAt === null || k.expiresAt > now).map((k) => k.key);
    const delivery = trigger.scheme.verify(
      { headers, rawBody },
      keys,
      trigger.toleranceSeconds,
      Math.floor(now / 1000),
    );
    return { trigger, deliveryId: delivery.deliveryId };
  }
}
