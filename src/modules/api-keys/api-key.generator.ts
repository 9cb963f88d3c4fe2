import { createHash, randomBytes } from 'node:crypto';

/** Only `hash` is stored; `prefix` (7 random characters) tells keys apart and says nothing about the rest. */
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: key.slice(0, API_KEY_DISPLAY_CHARS), hash: hashApiKey(key) };
}

/** Fast and unsalted is enough: 256 random bits leave nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const API_KEY_PREFIX = 'hr_';
const API_KEY_DISPLAY_CHARS = 10;
