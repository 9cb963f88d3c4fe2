import { describe, expect, it } from '@jest/globals';

import { RateLimitedError } from '../../common/domain.error.js';
import type { AppConfig } from '../../config/app.config.js';
import { TriggerRateLimiter } from './trigger-rate.limiter.js';

function limiter(perSecond: number) {
  const l = new TriggerRateLimiter({ webhookRateLimitPerSecond: perSecond } as AppConfig);
  let now = 1_000_000;
  l.now = () => now;
  return { l, advance: (ms: number) => (now += ms) };
}

function retryAfterOf(fn: () => void): number | null {
  try {
    fn();
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitedError);
    return (error as RateLimitedError).retryAfterSeconds;
  }
}

describe('TriggerRateLimiter', () => {
  it('allows a burst of twice the rate, then refuses with Retry-After until tokens refill', () => {
    const { l, advance } = limiter(5);
    for (let i = 0; i < 10; i++) expect(retryAfterOf(() => l.take('t1'))).toBeNull();
    expect(retryAfterOf(() => l.take('t1'))).toBe(1);
    advance(200);
    expect(retryAfterOf(() => l.take('t1'))).toBeNull();
    expect(retryAfterOf(() => l.take('t1'))).toBe(1);
  });

  it('keeps one budget per trigger', () => {
    const { l } = limiter(1);
    l.take('a');
    l.take('a');
    expect(retryAfterOf(() => l.take('a'))).toBe(1);
    expect(retryAfterOf(() => l.take('b'))).toBeNull();
  });

  it('answers Retry-After in whole seconds for slow rates', () => {
    const { l, advance } = limiter(1);
    l.take('a');
    l.take('a');
    advance(100);
    expect(retryAfterOf(() => l.take('a'))).toBe(1);
  });

  it('never refuses when the limit is 0 (off)', () => {
    const { l } = limiter(0);
    for (let i = 0; i < 10_000; i++) l.take('a');
  });
});
