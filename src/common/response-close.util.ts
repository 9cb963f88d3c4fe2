import type { ServerResponse } from 'node:http';

/** Aborts when the connection closes before the response was sent: the client went away. */
export function abortedOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}
