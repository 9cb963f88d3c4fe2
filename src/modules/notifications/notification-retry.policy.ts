/** An event is retried for this long after the run ended, then marked `failed`. */
export const NOTIFY_RETRY_WINDOW_MS = 24 * 60 * 60_000;
export const MAX_NOTIFY_RETRY_DELAY_MS = 4 * 60 * 60_000;
const GROWTH = 3;
/** ±20 %: receivers that came back after an outage are not hit by every pending event at the same instant. */
const JITTER = 0.2;

/**
 * How long to wait after the `failedAttempts`-th failed attempt: base, 3×base, 9×base... capped at 4 h, with
 * jitter. With the default 5 s base: 5 s, 15 s, 45 s, 2¼ min, 7 min, 20 min, 1 h, 3 h, then every 4 h.
 */
export function retryDelayMs(failedAttempts: number, baseMs: number, random: () => number = Math.random): number {
  const exponent = Math.max(0, failedAttempts - 1);
  const plain = Math.min(baseMs * GROWTH ** exponent, MAX_NOTIFY_RETRY_DELAY_MS);
  return Math.round(plain * (1 - JITTER + 2 * JITTER * random()));
}

/** When to try again after a failed attempt, or `null`: the retry window is over, the event is `failed`. */
export function nextAttemptAt(
  createdAt: Date,
  failedAttempts: number,
  now: Date,
  baseMs: number,
  random: () => number = Math.random,
): Date | null {
  const next = now.getTime() + retryDelayMs(failedAttempts, baseMs, random);
  return next > createdAt.getTime() + NOTIFY_RETRY_WINDOW_MS ? null : new Date(next);
}
