import { describe, expect, it } from '@jest/globals';

import { generateSlug, isSlugShaped } from './webhook-slug.generator.js';

const many = <T>(make: () => T, count = 200): T[] => Array.from({ length: count }, make);

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
