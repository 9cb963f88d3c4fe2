import { Inject, Injectable } from '@nestjs/common';

import { RateLimitedError } from '../../common/domain.error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** A token bucket per trigger and process. Only verified deliveries count: forgeries cannot spend a sender's budget. */
@Injectable()
export class TriggerRateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly burst: number;

  now: () => number = Date.now;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.ratePerMs = config.webhookRateLimitPerSecond / 1000;
    this.burst = config.webhookRateLimitPerSecond * 2;
  }

  take(triggerId: string): void {
    if (this.ratePerMs === 0) return;
    const now = this.now();
    const bucket = this.buckets.get(triggerId) ?? { tokens: this.burst, updatedAt: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.updatedAt) * this.ratePerMs);
    bucket.updatedAt = now;
    this.buckets.set(triggerId, bucket);
    if (bucket.tokens < 1)
      throw new RateLimitedError(Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000)));
    bucket.tokens -= 1;
  }
}
