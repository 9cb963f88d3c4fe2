import { DEFAULT_BACKOFF_MS, type RetryPolicy } from './definition.types.js';
import { StepFailure } from './step-failure.error.js';

export interface RetryOptions {
  sleep(ms: number): Promise<void>;
  random(): number;
  /** Asked after each backoff; false gives up with the last failure. */
  beforeRetry?(attempt: number): Promise<boolean>;
}

export type RetryResult<T> =
  | { status: 'succeeded'; value: T; attempts: number }
  | { status: 'failed'; failure: StepFailure; attempts: number; interrupted: boolean };

/** Full jitter: a uniform wait in [0, backoffMs * 2^(attempt-1)], which spreads retries of many runs apart. */
export function backoffDelayMs(policy: RetryPolicy, failedAttempt: number, random: () => number): number {
  return Math.floor(random() * (policy.backoffMs ?? DEFAULT_BACKOFF_MS) * 2 ** (failedAttempt - 1));
}

/** Errors other than `StepFailure` are faults, not failed attempts: they propagate. */
export async function withRetry<T>(
  policy: RetryPolicy | undefined,
  attempt: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const maxAttempts = policy?.maxAttempts ?? 1;
  for (let attempts = 1; ; attempts++) {
    try {
      return { status: 'succeeded', value: await attempt(attempts), attempts };
    } catch (err) {
      if (!(err instanceof StepFailure)) throw err;
      if (!policy || !err.retryable || attempts >= maxAttempts) {
        return { status: 'failed', failure: err, attempts, interrupted: false };
      }
      await options.sleep(backoffDelayMs(policy, attempts, options.random));
      if (options.beforeRetry && !(await options.beforeRetry(attempts + 1))) {
        return { status: 'failed', failure: err, attempts, interrupted: true };
      }
    }
  }
}
