import { createHash, createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { HmacSha256Scheme } from './hmac-sha256.scheme.js';
import type { HeaderBag, PreparedKey, SchemeOptions } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

const scheme = new HmacSha256Scheme();
const NOW = 1_700_000_000;
const BODY = Buffer.from('{"event":"invoice.created","amount":1999,"note":"ünïcode"}', 'utf8');

/** The convention written out independently of the scheme: HMAC-SHA256 of the raw body, keyed with the secret's bytes. */
function mac(secret: string, body: Buffer | string): Buffer {
  return createHmac('sha256', secret).update(body).digest();
}

describe('HmacSha256Scheme', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const key = scheme.prepareKey(secret);
  const verify = (h: HeaderBag, options: SchemeOptions, rawBody = BODY, keys: readonly PreparedKey[] = [key]) =>
    scheme.verify({ headers: h, rawBody }, keys, 300, NOW, options);

  it('is named hmac-sha256, generates a secret unless given one, and signs no timestamp', () => {
    expect(scheme.name).toBe('hmac-sha256');
    expect(scheme.generatesSecret).toBe(true);
    expect(scheme.usesTimestamp).toBe(false);
  });

  describe('validateOptions', () => {
    it('normalises: lower-case header names, hex and no prefix by default', () => {
      expect(scheme.validateOptions({ signatureHeader: 'X-Signature' })).toEqual({
        signatureHeader: 'x-signature',
        encoding: 'hex',
        prefix: '',
      });
      expect(
        scheme.validateOptions({
          signatureHeader: 'X-Hook-Sig',
          encoding: 'base64',
          prefix: 'sha256=',
          idHeader: 'X-Hook-Id',
        }),
      ).toEqual({ signatureHeader: 'x-hook-sig', encoding: 'base64', prefix: 'sha256=', idHeader: 'x-hook-id' });
    });

    it.each([
      ['nothing', undefined, /needs signatureHeader/],
      ['an empty object', {}, /needs signatureHeader/],
      ['an array', [], /must be an object/],
      ['a string', 'x-signature', /must be an object/],
      ['a header name with a space', { signatureHeader: 'x signature' }, /HTTP header name/],
      ['a header name with a colon', { signatureHeader: 'x-sig:' }, /HTTP header name/],
      ['an empty header name', { signatureHeader: '' }, /HTTP header name/],
      ['a 65-character header name', { signatureHeader: `x-${'a'.repeat(63)}` }, /HTTP header name/],
      ['a non-string header name', { signatureHeader: 42 }, /HTTP header name/],
      ['a reserved header', { signatureHeader: 'Content-Type' }, /cannot be content-type/],
      ['another encoding', { signatureHeader: 'x-sig', encoding: 'base64url' }, /"hex" or "base64"/],
      ['a prefix over 32 characters', { signatureHeader: 'x-sig', prefix: 'p'.repeat(33) }, /prefix/],
      ['a prefix starting with a space', { signatureHeader: 'x-sig', prefix: ' sha256=' }, /prefix/],
      ['a prefix with a control character', { signatureHeader: 'x-sig', prefix: 'a\tb' }, /prefix/],
      ['a non-string prefix', { signatureHeader: 'x-sig', prefix: 1 }, /prefix/],
      ['the same id and signature header', { signatureHeader: 'x-sig', idHeader: 'X-Sig' }, /must differ/],
      ['an unknown option', { signatureHeader: 'x-sig', header: 'x' }, /Unknown option "header"/],
      ['an option of the token scheme', { signatureHeader: 'x-sig', tokenHeader: 'x' }, /Unknown option "tokenHeader"/],
    ])('refuses %s with a plain Error', (_label, raw, message) => {
      expect(() => scheme.validateOptions(raw)).toThrow(message);
    });

    it('accepts a prefix of exactly 32 characters ending with a space', () => {
      expect(scheme.validateOptions({ signatureHeader: 'x-sig', prefix: `${'p'.repeat(31)} ` }).prefix).toHaveLength(
        32,
      );
    });
  });

  describe('hex with a prefix (configured as GitHub sends)', () => {
    const options = scheme.validateOptions({
      signatureHeader: 'X-Hub-Signature-256',
      prefix: 'sha256=',
      idHeader: 'X-GitHub-Delivery',
    });

    it("verifies GitHub's published example", () => {
      const result = scheme.verify(
        {
          headers: {
            'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
            'x-github-delivery': 'd-1',
          },
          rawBody: Buffer.from('Hello, World!'),
        },
        [scheme.prepareKey("It's a Secret to Everybody")],
        300,
        NOW,
        options,
      );
      expect(result).toEqual({ deliveryId: 'd-1', timestamp: null });
    });

    it('refuses a signature without its prefix, or with another', () => {
      const hex = mac(secret, BODY).toString('hex');
      expectAuthError(() => verify({ 'x-hub-signature-256': hex }, options), 'invalid_signature');
      expectAuthError(() => verify({ 'x-hub-signature-256': `sha1=${hex}` }, options), 'invalid_signature');
      expect(verify({ 'x-hub-signature-256': `sha256=${hex}` }, options).timestamp).toBeNull();
    });
  });

  describe('base64 without a prefix', () => {
    const options = scheme.validateOptions({ signatureHeader: 'x-signature', encoding: 'base64' });
    const valid = mac(secret, BODY).toString('base64');

    it('verifies, deduplicating on the body hash when no idHeader is configured', () => {
      expect(verify({ 'x-signature': valid, 'x-request-id': 'ignored' }, options)).toEqual({
        deliveryId: `sha256:${createHash('sha256').update(BODY).digest('hex')}`,
        timestamp: null,
      });
    });

    it.each([
      ['hex', () => mac(secret, BODY).toString('hex')],
      ['base64url', () => mac(secret, BODY).toString('base64url')],
      ['no padding', () => valid.replace(/=+$/, '')],
      ['31 bytes', () => randomBytes(31).toString('base64')],
      ['another secret', () => mac('another secret of some length', BODY).toString('base64')],
    ])('refuses %s', (_label, build) => {
      expectAuthError(() => verify({ 'x-signature': build() }, options), 'invalid_signature');
    });
  });

  describe('hex (the default)', () => {
    const options = scheme.validateOptions({ signatureHeader: 'x-signature', idHeader: 'x-delivery' });
    const valid = mac(secret, BODY).toString('hex');

    it('verifies lower- and upper-case hex, with the id header as deduplication id', () => {
      expect(verify({ 'x-signature': valid, 'x-delivery': 'dlv_1' }, options)).toEqual({
        deliveryId: 'dlv_1',
        timestamp: null,
      });
      expect(verify({ 'x-signature': valid.toUpperCase(), 'x-delivery': 'dlv_1' }, options).deliveryId).toBe('dlv_1');
    });

    it('falls back to the body hash when the configured id header is not sent', () => {
      expect(verify({ 'x-signature': valid }, options).deliveryId).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('refuses a malformed or repeated id', () => {
      expectAuthError(() => verify({ 'x-signature': valid, 'x-delivery': 'a b' }, options), 'invalid_signature');
      expectAuthError(() => verify({ 'x-signature': valid, 'x-delivery': ['a', 'b'] }, options), 'invalid_signature');
    });

    it('missing_signature without the configured header, even if another one carries a signature', () => {
      expectAuthError(() => verify({ 'x-hub-signature-256': valid }, options), 'missing_signature');
      expectAuthError(() => verify({ 'x-signature': '' }, options), 'missing_signature');
    });

    it.each([
      ['63 hex digits', () => valid.slice(1)],
      ['65 hex digits', () => `${valid}0`],
      ['non-hex', () => `${valid.slice(1)}g`],
      ['a signature of the altered body', () => mac(secret, `${BODY.toString()} `).toString('hex')],
    ])('invalid_signature for %s', (_label, build) => {
      expectAuthError(() => verify({ 'x-signature': build() }, options), 'invalid_signature');
    });

    it('verifies under either key during rotation, and tries only the first 11 keys', () => {
      const oldSecret = randomBytes(20).toString('hex');
      const oldKey = scheme.prepareKey(oldSecret);
      const oldValid = mac(oldSecret, BODY).toString('hex');
      expect(verify({ 'x-signature': oldValid }, options, BODY, [key, oldKey]).timestamp).toBeNull();
      expect(verify({ 'x-signature': valid }, options, BODY, [key, oldKey]).timestamp).toBeNull();
      const others = Array.from({ length: 10 }, () => scheme.prepareKey(randomBytes(20).toString('hex')));
      expect(verify({ 'x-signature': oldValid }, options, BODY, [...others, oldKey]).timestamp).toBeNull();
      expectAuthError(
        () => verify({ 'x-signature': oldValid }, options, BODY, [key, ...others, oldKey]),
        'invalid_signature',
      );
    });
  });

  it('keys the HMAC with the whole secret string, a generated whsec_ one included', () => {
    expect(scheme.prepareKey(secret)).toEqual(Buffer.from(secret, 'utf8'));
  });

  it('treats a header named like an Object.prototype property as absent', () => {
    for (const name of ['constructor', '__proto__', 'toString']) {
      const options = scheme.validateOptions({ signatureHeader: name });
      expectAuthError(() => verify({}, options), 'missing_signature');
    }
  });

  it('fails loudly, not open, without its options', () => {
    const h = { 'x-signature': mac(secret, BODY).toString('hex') };
    expect(() => scheme.verify({ headers: h, rawBody: BODY }, [key], 300, NOW)).toThrow(TypeError);
    expect(() => scheme.verify({ headers: h, rawBody: BODY }, [key], 300, NOW, {})).toThrow(TypeError);
  });

  it('refuses unusable secrets without echoing them', () => {
    for (const bad of ['short', ` ${'x'.repeat(20)} `, `${'x'.repeat(10)}\u0000${'x'.repeat(10)}`, 'x'.repeat(513)]) {
      expect(() => scheme.validateSecret(bad)).toThrow(Error);
      try {
        scheme.validateSecret(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(bad.trim());
      }
    }
    expect(() => scheme.validateSecret('a shared secret with spaces and ünïcode')).not.toThrow();
  });
});
