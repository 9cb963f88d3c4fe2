import { Injectable } from '@nestjs/common';

import { AuthenticationError, NotFoundError } from '../../common/errors.js';
import { REQUEST_DATABASE_TIMEOUT_MS, withTimeout } from '../../common/timeout.js';
import { isSlugShaped } from './webhook-slug.generator.js';
import { TriggerCache, type ResolvedTrigger } from './trigger-cache.js';
import type { HeaderBag } from './verification/webhook-scheme.js';

export interface VerifiedWebhook {
  trigger: ResolvedTrigger;
  deliveryId: string;
  /** Epoch ms by which the delivery must be answered: past it, a stalled database makes it a 503. */
  deadline: number;
}

/**
 * Decides whether a request may start a run: the slug names an active trigger and one of its
 * unexpired secrets signed these exact bytes, under the trigger's scheme and options. The HMAC and
 * constant-time compare live in the schemes.
 */
@Injectable()
export class WebhookVerificationService {
  constructor(private readonly triggers: TriggerCache) {}

  /**
   * Synchronous while the trigger is cached (almost every request), so that the guard answers without
   * a promise; a promise when the trigger must be loaded first. Throws (or rejects) when it does not verify.
   */
  verify(slug: string, headers: HeaderBag, rawBody: Buffer): VerifiedWebhook | Promise<VerifiedWebhook> {
    // No trigger has such a slug: no lookup (a NUL byte, say, is an encoding error in PostgreSQL).
    if (!isSlugShaped(slug)) throw notFound();
    const deadline = Date.now() + REQUEST_DATABASE_TIMEOUT_MS;
    const cached = this.triggers.cached(slug);
    if (cached !== undefined) return this.verifyFor(cached, headers, rawBody, deadline);
    return withTimeout(this.triggers.get(slug), REQUEST_DATABASE_TIMEOUT_MS, 'Looking up the trigger').then((trigger) =>
      this.verifyFor(trigger, headers, rawBody, deadline),
    );
  }

  private verifyFor(
    trigger: ResolvedTrigger | null,
    headers: HeaderBag,
    rawBody: Buffer,
    deadline: number,
  ): VerifiedWebhook {
    if (!trigger || !trigger.active) throw notFound();
    // Stored options that no longer validate are the server's fault (logged by the cache), but failing
    // closed is the only safe answer: nothing verifies until the trigger is fixed.
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
