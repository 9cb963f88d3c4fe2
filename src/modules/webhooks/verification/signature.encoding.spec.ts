import { randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { decodeHex, decodeStrictBase64 } from './signature.encoding.js';

describe('decodeHex', () => {
  it('decodes exactly the requested length, in either case', () => {
    const bytes = randomBytes(32);
    expect(decodeHex(bytes.toString('hex'), 32)?.equals(bytes)).toBe(true);
    expect(decodeHex(bytes.toString('hex').toUpperCase(), 32)?.equals(bytes)).toBe(true);
  });

  it.each([
    ['a non-hex pair, which Buffer.from would silently drop', `${'ab'.repeat(31)}zz`],
    ['a non-hex character mid-way', `${'ab'.repeat(15)}g${'a'.repeat(33)}`],
    ['one digit short', 'a'.repeat(63)],
    ['one digit long', 'a'.repeat(65)],
    ['a 0x prefix', `0x${'a'.repeat(62)}`],
    ['spaces', `${'a'.repeat(62)}  `],
  ])('refuses %s', (_label, value) => {
    expect(decodeHex(value, 32)).toBeNull();
  });
});

describe('decodeStrictBase64', () => {
  it('accepts only canonical padded standard base64', () => {
    expect(decodeStrictBase64('AAEC')?.equals(Buffer.from([0, 1, 2]))).toBe(true);
    expect(decodeStrictBase64('AAE=')?.equals(Buffer.from([0, 1]))).toBe(true);
    for (const bad of ['', 'AAE', 'AAF=', 'AA==AA==', 'AA-_', 'AA E', '====', 'A===']) {
      expect(decodeStrictBase64(bad)).toBeNull();
    }
  });
});
