import { createHmac, timingSafeEqual } from 'node:crypto';

import { MAX_KEYS } from './signature.limits.js';
import type { PreparedKey } from './webhook-scheme.interface.js';

export function hmacSha256(key: Buffer, ...parts: readonly (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) {
    if (typeof part === 'string') hmac.update(part, 'utf8');
    else hmac.update(part);
  }
  return hmac.digest();
}

/** The HMAC keys among the first MAX_KEYS keys; an asymmetric key is never used as an HMAC secret. */
function hmacKeys(keys: readonly PreparedKey[]): Buffer[] {
  return keys.slice(0, MAX_KEYS).filter((key): key is Buffer => Buffer.isBuffer(key));
}

/** One MAC per key, compared in constant time; a candidate of another length is skipped (timingSafeEqual throws). */
export function anyKeyMatches(
  keys: readonly PreparedKey[],
  candidates: readonly Buffer[],
  expectedFor: (key: Buffer) => Buffer,
): boolean {
  if (candidates.length === 0) return false;
  for (const key of hmacKeys(keys)) {
    const expected = expectedFor(key);
    let matched = false;
    // Every candidate is compared, so the time does not tell which one matched.
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
    if (matched) return true;
  }
  return false;
}
