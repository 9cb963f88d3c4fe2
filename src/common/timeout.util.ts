/** Past this a request waiting on PostgreSQL answers 503: senders give up (GitHub after 10 s). */
export const REQUEST_DATABASE_TIMEOUT_MS = 1500;

export class TimeoutError extends Error {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what} did not finish within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

/** The work itself goes on (a statement in flight cannot be taken back); its late result is dropped. */
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
