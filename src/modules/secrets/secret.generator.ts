import { createHash, randomBytes } from 'node:crypto';

/** A Standard Webhooks signing secret: `whsec_` + standard base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** The public path segment of a webhook URL: 144 random bits, base64url (24 characters). */
export function generateSlug(): string {
  return randomBytes(SLUG_BYTES).toString('base64url');
}

/**
 * Whether `value` could be a slug `generateSlug` made. Anything else names no trigger, so it is
 * refused before any lookup: a path segment such as `%00` never reaches the cache or the database.
 */
export function isSlugShaped(value: string): boolean {
  return SLUG_SHAPE.test(value);
}

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

const SLUG_BYTES = 18;
// 18 bytes are exactly 24 base64url characters, with no padding and no spare bits.
const SLUG_SHAPE = /^[A-Za-z0-9_-]{24}$/;
const WEBHOOK_SECRET_PREFIX = 'whsec_';
const API_KEY_PREFIX = 'hr_';
const API_KEY_DISPLAY_CHARS = 10;
