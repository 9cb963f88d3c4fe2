import { randomBytes } from 'node:crypto';

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

const SLUG_BYTES = 18;
// 18 bytes are exactly 24 base64url characters, with no padding and no spare bits.
const SLUG_SHAPE = /^[A-Za-z0-9_-]{24}$/;
