import { describe, expect, it } from '@jest/globals';

import { StandardWebhooksScheme } from '../webhooks/verification/standard-webhooks.scheme.js';
import { generateWebhookSecret } from './secret.generator.js';

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
