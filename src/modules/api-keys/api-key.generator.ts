import { createHash, randomBytes } from 'node:crypto';

/**
 * A new API key. Only `hash` is stored; `prefix` is kept in clear so people can tell their keys apart
 * in listings, and it is short enough (7 random characters) to say nothing useful about the rest.
 */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, API_KEY_DISPLAY_CHARS), hash: hashApiKey(key) };
}

/**
 * SHA-256 hex of the whole key. A fast unsalted hash is enough here: the key has 256 random bits, so
 * there is nothing to brute-force, and lookups by hash stay a plain index query.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const API_KEY_PREFIX = 'hr_';
const API_KEY_DISPLAY_CHARS = 10;
