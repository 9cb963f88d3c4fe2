import { currentKey, signOut } from './session';

export const KEY_NO_LONGER_VALID = 'Your API key is no longer valid. Sign in again.';

/** One field the API did not accept, from a `validation_failed` error's `details`. */
export interface ValidationDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ValidationDetail[] = [],
  ) {
    super(message);
  }
}

function detailsOf(value: unknown): ValidationDetail[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (d): d is ValidationDetail =>
      typeof d === 'object' && d !== null && typeof d.field === 'string' && typeof d.message === 'string',
  );
}

/** Calls the /v1 API with the session's key; a 401 ends the session, since every later call would fail too. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
  const key = init.key ?? currentKey();
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 204) return undefined as T;
  const body = (await res.json().catch(() => null)) as {
    error?: { code: string; message: string; details?: unknown };
  } | null;
  if (!res.ok) {
    const error = new ApiError(
      res.status,
      body?.error?.code ?? 'http_error',
      body?.error?.message ?? res.statusText,
      detailsOf(body?.error?.details),
    );
    if (res.status === 401 && init.key === undefined) signOut(KEY_NO_LONGER_VALID);
    throw error;
  }
  return body as T;
}

/** A cheap authenticated GET: whether the key opens the API at all. */
export async function checkKey(key: string): Promise<boolean> {
  try {
    await api('/v1/api-keys?limit=1', { key });
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return false;
    throw error;
  }
}
