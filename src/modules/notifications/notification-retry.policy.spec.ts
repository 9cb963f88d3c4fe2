import { describe, expect, it } from '@jest/globals';

import {
  MAX_NOTIFY_RETRY_DELAY_MS,
  NOTIFY_RETRY_WINDOW_MS,
  nextAttemptAt,
  retryDelayMs,
} from './notification-retry.policy.js';

const middle = () => 0.5;

describe('retryDelayMs', () => {
  it('grows three times per failed attempt from the base, capped at 4 hours', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => retryDelayMs(n, 5000, middle))).toEqual([
      5000,
      15_000,
      45_000,
      135_000,
      405_000,
      1_215_000,
      3_645_000,
      10_935_000,
      MAX_NOTIFY_RETRY_DELAY_MS,
      MAX_NOTIFY_RETRY_DELAY_MS,
    ]);
  });

  it('spreads each delay by ±20 % of jitter', () => {
    expect(retryDelayMs(1, 5000, () => 0)).toBe(4000);
    expect(retryDelayMs(1, 5000, () => 1)).toBe(6000);
    expect(retryDelayMs(3, 100, () => 0)).toBe(720);
    expect(retryDelayMs(20, 5000, () => 1)).toBe(Math.round(MAX_NOTIFY_RETRY_DELAY_MS * 1.2));
  });

  it('follows the configured base (NOTIFY_RETRY_BASE_MS)', () => {
    expect([1, 2, 3].map((n) => retryDelayMs(n, 50, middle))).toEqual([50, 150, 450]);
  });
});

describe('nextAttemptAt', () => {
  const createdAt = new Date('2026-12-01T00:00:00Z');

  it('schedules the next attempt after the delay while the 24 h window lasts', () => {
    const now = new Date(createdAt.getTime() + 60_000);
    expect(nextAttemptAt(createdAt, 2, now, 5000, middle)).toEqual(new Date(now.getTime() + 15_000));
  });

  it('gives up (null) when the next attempt would fall past 24 hours after the run ended', () => {
    const late = new Date(createdAt.getTime() + NOTIFY_RETRY_WINDOW_MS - 60_000);
    expect(nextAttemptAt(createdAt, 12, late, 5000, middle)).toBeNull();
    expect(nextAttemptAt(createdAt, 1, late, 5000, middle)).toEqual(new Date(late.getTime() + 5000));
  });

  it('makes 13 attempts in 24 hours with the default base', () => {
    let now = createdAt;
    let attempts = 1;
    for (
      let at = nextAttemptAt(createdAt, 1, now, 5000, middle);
      at;
      at = nextAttemptAt(createdAt, attempts, now, 5000, middle)
    ) {
      now = at;
      attempts += 1;
    }
    expect(attempts).toBe(13);
    expect(now.getTime() - createdAt.getTime()).toBeLessThanOrEqual(NOTIFY_RETRY_WINDOW_MS);
  });
});
