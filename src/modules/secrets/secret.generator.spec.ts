import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { StandardWebhooksScheme } from '../webhooks/verification/standard-webhooks.scheme.js';
import { generateApiKey, generateSlug, generateWebhookSecret, hashApiKey, isSlugShaped } from './secret.generator.js';

const many = <T>(make: () => T, count = 200): T[] => Array.from({ length: count }, make);

describe('generateWebhookSecret', () => {
  it('is whsec_ + standard base64 of 32 bytes', () => {
    for (const secret of many(generateWebhookSecret)) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    }
  });

  it('is accepted by StandardWebhooksScheme.prepareKey as its 32 bytes', () => {
    const scheme = new StandardWebhooksScheme();
    for (const secret of many(generateWebhookSecret)) {
      expect(scheme.prepareKey(secret)).toEqual(Buffer.from(secret.slice(6), 'base64'));
    }
  });

  it('is unique', () => {
    expect(new Set(many(generateWebhookSecret, 1000)).size).toBe(1000);
  });
});

describe('generateSlug', () => {
  it('is 24 URL-safe characters carrying 18 bytes', () => {
    for (const slug of many(generateSlug)) {
      expect(slug).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(encodeURIComponent(slug)).toBe(slug);
      expect(Buffer.from(slug, 'base64url')).toHaveLength(18);
    }
  });

  it('is unique', () => {
    expect(new Set(many(generateSlug, 1000)).size).toBe(1000);
  });

  it('is slug-shaped, and nothing else is', () => {
    for (const slug of many(generateSlug)) expect(isSlugShaped(slug)).toBe(true);
    const slug = generateSlug();
    for (const other of [
      '',
      'no-such-slug',
      slug.slice(1),
      `${slug}A`,
      `${slug.slice(1)}\0`,
      `${slug.slice(1)}=`,
      `${slug.slice(1)}/`,
      `${slug.slice(1)}+`,
      `${slug.slice(1)}é`,
      `${slug}\n`,
      '%00'.repeat(8),
    ]) {
      expect({ other, shaped: isSlugShaped(other) }).toEqual({ other, shaped: false });
    }
  });
});

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
