import { createHash, createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { ShopifyScheme } from './shopify.scheme.js';
import type { HeaderBag, PreparedKey } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

const scheme = new ShopifyScheme();
const NOW = 1_700_000_000;
const WEBHOOK_ID = 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043';
const BODY = Buffer.from('{"id":820982911946154508,"email":"jon@example.com","note":"ünïcode"}', 'utf8');

/** Shopify's documented algorithm, independent of the scheme: base64 HMAC-SHA256 of the raw body with the app secret. */
function shopifySign(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** `webhookId` null leaves X-Shopify-Webhook-Id out. */
function headers(signature: string, webhookId: string | null = WEBHOOK_ID): HeaderBag {
  const h: HeaderBag = {
    'x-shopify-hmac-sha256': signature,
    'x-shopify-topic': 'orders/create',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  };
  if (webhookId !== null) h['x-shopify-webhook-id'] = webhookId;
  return h;
}

describe('ShopifyScheme', () => {
  const secret = `shpss_${randomBytes(16).toString('hex')}`;
  const key = scheme.prepareKey(secret);
  const valid = shopifySign(secret, BODY);
  const verify = (h: HeaderBag, rawBody = BODY, keys: readonly PreparedKey[] = [key]) =>
    scheme.verify({ headers: h, rawBody }, keys, 300, NOW);

  it('is named shopify, needs the app secret and signs no timestamp', () => {
    expect(scheme.name).toBe('shopify');
    expect(scheme.generatesSecret).toBe(false);
    expect(scheme.usesTimestamp).toBe(false);
  });

  it('checks against a fixed example of the documented algorithm', () => {
    // HMAC-SHA256("hush-hush-app-secret", "{}") in base64, computed once with openssl.
    const fixed = scheme.verify(
      { headers: headers('4pyrA5JZJBbfmk32ehf8duB3+crTdvgxG+4s/hA9fAI='), rawBody: Buffer.from('{}') },
      [scheme.prepareKey('hush-hush-app-secret')],
      300,
      NOW,
    );
    expect(fixed).toEqual({ deliveryId: WEBHOOK_ID, timestamp: null });
  });

  describe('accepts', () => {
    it('a valid signature, with X-Shopify-Webhook-Id as the deduplication id', () => {
      expect(verify(headers(valid))).toEqual({ deliveryId: WEBHOOK_ID, timestamp: null });
    });

    it('during rotation, a signature under either the new or the old secret', () => {
      const oldSecret = `shpss_${randomBytes(16).toString('hex')}`;
      const keys = [key, scheme.prepareKey(oldSecret)];
      expect(verify(headers(valid), BODY, keys).deliveryId).toBe(WEBHOOK_ID);
      expect(verify(headers(shopifySign(oldSecret, BODY)), BODY, keys).deliveryId).toBe(WEBHOOK_ID);
    });
  });

  describe('deduplication id', () => {
    it('is sha256:<hex> of the body without X-Shopify-Webhook-Id (X-Shopify-Event-Id is not used)', () => {
      expect(verify(headers(valid, null)).deliveryId).toBe(`sha256:${createHash('sha256').update(BODY).digest('hex')}`);
    });

    it('refuses a malformed X-Shopify-Webhook-Id', () => {
      expectAuthError(() => verify(headers(valid, 'id\u00e9')), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, 'x'.repeat(257))), 'invalid_signature');
    });
  });

  it('missing_signature without X-Shopify-Hmac-Sha256', () => {
    expectAuthError(() => verify({ 'x-shopify-webhook-id': WEBHOOK_ID }), 'missing_signature');
    expectAuthError(() => verify(headers('')), 'missing_signature');
  });

  describe('invalid_signature', () => {
    it.each([
      ['another secret', () => shopifySign('another app secret value', BODY)],
      ['the signature in hex', () => Buffer.from(valid, 'base64').toString('hex')],
      ['the signature in base64url', () => Buffer.from(valid, 'base64').toString('base64url')],
      ['the signature without padding', () => valid.replace(/=+$/, '')],
      ['the signature with extra padding', () => `${valid}=`],
      ['31 bytes', () => randomBytes(31).toString('base64')],
      ['33 bytes', () => randomBytes(33).toString('base64')],
      ['non-base64 characters', () => `${'!'.repeat(43)}=`],
      ['a sha256= prefix', () => `sha256=${valid}`],
      ['inner whitespace', () => `${valid.slice(0, 20)} ${valid.slice(20)}`],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(headers(build())), 'invalid_signature');
    });

    it('for the right signature with non-zero padding bits', () => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const last = valid.charAt(42);
      // The last character before '=' carries 2 unused bits: four spellings decode to the same bytes.
      const base = alphabet.indexOf(last) & ~3;
      const spellings = [0, 1, 2, 3].map((i) => `${valid.slice(0, 42)}${alphabet.charAt(base + i)}=`);
      const others = spellings.filter((s) => s !== valid);
      expect(others).toHaveLength(3);
      for (const other of others) {
        expect(Buffer.from(other, 'base64').equals(Buffer.from(valid, 'base64'))).toBe(true);
        expectAuthError(() => verify(headers(other)), 'invalid_signature');
      }
    });

    it('when the body changes', () => {
      expectAuthError(
        () => verify(headers(valid), Buffer.from(BODY.toString().replace('jon', 'jan'))),
        'invalid_signature',
      );
    });

    it('tries only the first 11 keys', () => {
      const others = Array.from({ length: 11 }, () => scheme.prepareKey(randomBytes(16).toString('hex')));
      expect(verify(headers(valid), BODY, [...others.slice(0, 10), key]).deliveryId).toBe(WEBHOOK_ID);
      expectAuthError(() => verify(headers(valid), BODY, [...others, key]), 'invalid_signature');
    });
  });

  it('validates secrets and options', () => {
    expect(() => scheme.validateSecret(secret)).not.toThrow();
    expect(() => scheme.validateSecret('short')).toThrow(/16 to 512/);
    expect(scheme.validateOptions(undefined)).toEqual({});
    expect(() => scheme.validateOptions({ idHeader: 'x-shopify-event-id' })).toThrow(Error);
  });
});
