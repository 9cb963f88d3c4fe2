import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { generateApiKey, hashApiKey } from './api-key.generator.js';

const many = <T>(make: () => T, count = 200): T[] => Array.from({ length: count }, make);

describe('generateApiKey', () => {
  it('is hr_ + base64url of 32 bytes, with its first 10 characters as prefix and its SHA-256 as hash', () => {
    for (const { key, prefix, hash } of many(generateApiKey)) {
      expect(key).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(key.slice(3), 'base64url')).toHaveLength(32);
      expect(prefix).toBe(key.slice(0, 10));
      expect(prefix).toMatch(/^hr_[A-Za-z0-9_-]{7}$/);
      expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    }
  });

  it('is unique', () => {
    const keys = many(generateApiKey, 1000);
    expect(new Set(keys.map((k) => k.key)).size).toBe(1000);
    expect(new Set(keys.map((k) => k.hash)).size).toBe(1000);
  });
});

describe('hashApiKey', () => {
  it('is lower-case SHA-256 hex', () => {
    // Known answer: SHA-256("abc").
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hashApiKey('hr_x')).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey('hr_x')).not.toBe(hashApiKey('hr_y'));
  });
});
