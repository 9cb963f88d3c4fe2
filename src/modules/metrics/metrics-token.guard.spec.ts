import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';

import { bearerMatches } from './metrics-token.guard.js';

const TOKEN = 'scrape-token-0123456789';
const DIGEST = createHash('sha256').update(TOKEN).digest();

describe('bearerMatches', () => {
  it('takes the token as a Bearer credential, the scheme in any case', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, DIGEST)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, DIGEST)).toBe(true);
  });

  it('refuses a missing header, another scheme, a prefix, a longer token and a bare token', () => {
    for (const header of [
      undefined,
      '',
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      TOKEN,
      `Bearer ${TOKEN} extra`,
    ]) {
      expect(bearerMatches(header, DIGEST)).toBe(false);
    }
  });
});
