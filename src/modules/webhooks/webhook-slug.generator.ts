import { randomBytes } from 'node:crypto';

export function generateSlug(): string {
  return randomBytes(SLUG_BYTES).toString('base64url');
}

/** Anything else is refused before any lookup: `%00` never reaches the cache or the database. */
export function isSlugShaped(value: string): boolean {
  return SLUG_SHAPE.test(value);
}

const SLUG_BYTES = 18;
// 18 bytes are exactly 24 base64url characters, with no padding and no spare bits.
const SLUG_SHAPE = /^[A-Za-z0-9_-]{24}$/;
