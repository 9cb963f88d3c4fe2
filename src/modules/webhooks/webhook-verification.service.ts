import { Injectable } from '@nestjs/common';

import { AuthenticationError, NotFoundError } from '../../common/domain.error.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.util.js';
import { isSlugShaped } from './webhook-slug.generator.js';
import { TriggerCache, type ResolvedTrigger } from './trigger.cache.js';
import type { HeaderBag } from './verification/webhook-scheme.interface.js';

export interface VerifiedWebhook {
  trigger: ResolvedTrigger;
  deliveryId: string;
  deadline: number;
}

/** Whether one of an active trigger's unexpired secrets signed these exact bytes, under its scheme. */
@Injectable()
export class WebhookVerificationService {
  constructor(private readonly triggers: TriggerCache) {}

  async verify(slug: string, headers: HeaderBag, rawBody: Buffer): Promise<VerifiedWebhook> {
    // No trigger has such a slug: no lookup (a NUL byte, say, is an encoding error in PostgreSQL).
    if (!isSlugShaped(slug)) throw notFound();
    const deadline = Date.now() + REQUEST_DATABASE_TIMEOUT_MS;
    let trigger = this.triggers.cached(slug);
    if (trigger === undefined) {
      trigger = await withTimeout(this.triggers.get(slug), REQUEST_DATABASE_TIMEOUT_MS, 'Looking up the trigger');
    }
    return this.verifyFor(trigger, headers, rawBody, deadline);
  }

  private verifyFor(
    trigger: ResolvedTrigger | null,
    headers: HeaderBag,
    rawBody: Buffer,
    deadline: number,
  ): VerifiedWebhook {
    if (!trigger || !trigger.active) throw notFound();
    // Options that no longer validate are the server's fault, but only failing closed is safe.
    if (trigger.options === null) throw new AuthenticationError('invalid_signature', 'No signature matches');
    const now = Date.now();
    const keys =
      now < trigger.firstExpiry
        ? trigger.allKeys
        : trigger.keys.filter((k) => k.expiresAt === null || k.expiresAt > now).map((k) => k.key);
    const delivery = trigger.scheme.verify(
      { headers, rawBody },
      keys,
      trigger.toleranceSeconds,
      Math.floor(now / 1000),
      trigger.options,
    );
    return { trigger, deliveryId: delivery.deliveryId, deadline };
  }
}

function notFound(): NotFoundError {
  return new NotFoundError('trigger', undefined, 'trigger_not_found');
}
