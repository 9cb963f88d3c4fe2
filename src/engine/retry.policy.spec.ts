import { describe, expect, it, jest } from '@jest/globals';

import { DEFAULT_BACKOFF_MS } from './definition.types.js';
import { backoffDelayMs, withRetry } from './retry.policy.js';
import { StepFailure } from './step-failure.error.js';

const policy = { maxAttempts: 4, backoffMs: 1000 };

function recorder() {
  const sleeps: number[] = [];
  return {
    sleeps,
    options: {
      sleep: async (ms: number) => {
        sleeps.push(ms);
      },
      random: () => 0.5,
    },
  };
}

describe('backoffDelayMs', () => {
  it('doubles the ceiling at each attempt and picks a uniform point below it (full jitter)', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelayMs(policy, attempt, () => 0.5))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelayMs(policy, 3, () => 0.999)).toBe(3996);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs({ maxAttempts: 3, backoffMs: 0 }, 2, () => 0.9)).toBe(0);
  });

  it('uses a first ceiling of DEFAULT_BACKOFF_MS (1000 ms) when the policy has no backoffMs', () => {
    expect(DEFAULT_BACKOFF_MS).toBe(1000);
    const noBackoff = { maxAttempts: 4 };
    expect([1, 2, 3].map((attempt) => backoffDelayMs(noBackoff, attempt, () => 0.5))).toEqual([500, 1000, 2000]);
    expect(backoffDelayMs(noBackoff, 1, () => 0.999)).toBe(999);
  });
});

describe('withRetry', () => {
  it('retries retryable failures with backoff until an attempt succeeds', async () => {
    const { sleeps, options } = recorder();
    const attempt = jest.fn(async (n: number) => {
      if (n < 3) throw new StepFailure('http_error', `attempt ${n} failed`, true);
      return 'ok';
    });

    const result = await withRetry(policy, attempt, options);

    expect(result).toEqual({ status: 'succeeded', value: 'ok', attempts: 3 });
    expect(attempt.mock.calls.map(([n]) => n)).toEqual([1, 2, 3]);
    expect(sleeps).toEqual([500, 1000]);
  });

  it('gives up with the last failure after maxAttempts', async () => {
    const { sleeps, options } = recorder();
    let calls = 0;

    const result = await withRetry(
      policy,
      async (n) => {
        calls++;
        throw new StepFailure('http_error', `attempt ${n} failed`, true);
      },
      options,
    );

    expect(result).toMatchObject({ status: 'failed', attempts: 4, interrupted: false });
    expect(result.status === 'failed' && result.failure.message).toBe('attempt 4 failed');
    expect(calls).toBe(4);
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('fails at once on a failure that retrying cannot fix', async () => {
    const { sleeps, options } = recorder();
    let calls = 0;

    const result = await withRetry(
      policy,
      async () => {
        calls++;
        throw new StepFailure('expression_error', 'bad expression');
      },
      options,
    );

    expect(result).toMatchObject({ status: 'failed', attempts: 1, failure: { code: 'expression_error' } });
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('makes a single attempt without a policy', async () => {
    const { options } = recorder();
    let calls = 0;

    const result = await withRetry(
      undefined,
      async () => {
        calls++;
        throw new StepFailure('http_error', 'down', true);
      },
      options,
    );

    expect(result).toMatchObject({ status: 'failed', attempts: 1 });
    expect(calls).toBe(1);
  });

  it('stops when beforeRetry says no, keeping the last failure', async () => {
    const { options } = recorder();
    const beforeRetry = jest.fn(async (next: number) => next < 3);
    let calls = 0;

    const result = await withRetry(
      policy,
      async () => {
        calls++;
        throw new StepFailure('http_error', 'down', true);
      },
      { ...options, beforeRetry },
    );

    expect(result).toMatchObject({ status: 'failed', attempts: 2, interrupted: true });
    expect(beforeRetry.mock.calls.map(([next]) => next)).toEqual([2, 3]);
    expect(calls).toBe(2);
  });

  it('lets errors that are not step failures propagate', async () => {
    const { options } = recorder();

    await expect(
      withRetry(
        policy,
        async () => {
          throw new TypeError('bug');
        },
        options,
      ),
    ).rejects.toThrow('bug');
  });
});
