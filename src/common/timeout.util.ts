/**
 * How long a request may wait for PostgreSQL before it is answered `503 unavailable`: a stalled
 * database must not hold a sender (GitHub gives up after 10 s) for as long as it stalls.
 */
export const REQUEST_DATABASE_TIMEOUT_MS = 1500;

/** Work that did not finish in time: the dependency it waits on is stalled or overloaded. */
export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not finish within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/**
 * Settles as `work` does, or rejects with a `TimeoutError` after `timeoutMs`. The work itself goes on
 * (a statement in flight cannot be taken back); whatever it settles with later is dropped.
 */
export function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  if (timeoutMs <= 0) {
    work.catch(() => undefined);
    return Promise.reject(new TimeoutError(what, 0));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(what, timeoutMs)), timeoutMs);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
