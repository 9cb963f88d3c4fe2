import { createHash, createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { GitHubScheme } from './github.scheme.js';
import type { HeaderBag, PreparedKey } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

// GitHub's published example ("Validating webhook deliveries").
const VECTOR = {
  secret: "It's a Secret to Everybody",
  payload: 'Hello, World!',
  signature: 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
};

const scheme = new GitHubScheme();
const NOW = 1_700_000_000;
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
const BODY = Buffer.from('{"action":"opened","number":7,"title":"ünïcode"}', 'utf8');

/** GitHub's algorithm written out independently of the scheme: hex HMAC-SHA256 of the body, keyed with the secret's bytes. */
function githubSign(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** `delivery` null leaves X-GitHub-Delivery out. */
function headers(signature: string, delivery: string | null = DELIVERY): HeaderBag {
  const h: HeaderBag = { 'x-hub-signature-256': signature, 'x-github-event': 'pull_request' };
  if (delivery !== null) h['x-github-delivery'] = delivery;
  return h;
}

describe('GitHubScheme', () => {
  const secret = randomBytes(24).toString('hex');
  const key = scheme.prepareKey(secret);
  const valid = githubSign(secret, BODY);
  const verify = (h: HeaderBag, rawBody = BODY, keys: readonly PreparedKey[] = [key]) =>
    scheme.verify({ headers: h, rawBody }, keys, 300, NOW);

  it('is named github, needs the user’s secret and signs no timestamp', () => {
    expect(scheme.name).toBe('github');
    expect(scheme.generatesSecret).toBe(false);
    expect(scheme.usesTimestamp).toBe(false);
  });

  describe('published test vector', () => {
    it('verifies', () => {
      const result = scheme.verify(
        { headers: headers(VECTOR.signature), rawBody: Buffer.from(VECTOR.payload) },
        [scheme.prepareKey(VECTOR.secret)],
        300,
        NOW,
      );
      expect(result).toEqual({ deliveryId: DELIVERY, timestamp: null });
    });

    it('is what the independent signer produces', () => {
      expect(githubSign(VECTOR.secret, VECTOR.payload)).toBe(VECTOR.signature);
    });
  });

  describe('accepts', () => {
    it('a valid signature, whatever the clock says (GitHub signs no timestamp)', () => {
      expect(verify(headers(valid))).toEqual({ deliveryId: DELIVERY, timestamp: null });
      expect(scheme.verify({ headers: headers(valid), rawBody: BODY }, [key], 0, 0).deliveryId).toBe(DELIVERY);
    });

    it('upper-case hex', () => {
      expect(verify(headers(`sha256=${valid.slice(7).toUpperCase()}`)).deliveryId).toBe(DELIVERY);
    });

    it('an empty body', () => {
      expect(verify(headers(githubSign(secret, '')), Buffer.alloc(0)).deliveryId).toBe(DELIVERY);
    });

    it('during rotation, a signature under either the new or the old secret', () => {
      const oldSecret = randomBytes(24).toString('hex');
      const keys = [key, scheme.prepareKey(oldSecret)];
      expect(verify(headers(valid), BODY, keys).deliveryId).toBe(DELIVERY);
      expect(verify(headers(githubSign(oldSecret, BODY)), BODY, keys).deliveryId).toBe(DELIVERY);
    });
  });

  describe('deduplication id', () => {
    it('is X-GitHub-Delivery', () => {
      expect(verify(headers(valid, 'abc-123')).deliveryId).toBe('abc-123');
    });

    it('is sha256:<hex> of the body without X-GitHub-Delivery', () => {
      const expected = `sha256:${createHash('sha256').update(BODY).digest('hex')}`;
      expect(verify(headers(valid, null)).deliveryId).toBe(expected);
      expect(verify(headers(valid, '')).deliveryId).toBe(expected);
    });

    it('refuses a malformed or repeated X-GitHub-Delivery', () => {
      expectAuthError(() => verify(headers(valid, 'x'.repeat(257))), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, 'has space')), 'invalid_signature');
      expectAuthError(() => verify({ ...headers(valid), 'x-github-delivery': ['a', 'b'] }), 'invalid_signature');
    });
  });

  describe('missing_signature', () => {
    it.each([
      ['absent', {}],
      ['empty', { 'x-hub-signature-256': '' }],
      ['an empty list', { 'x-hub-signature-256': [] }],
      ['only the legacy SHA-1 header', { 'x-hub-signature': `sha1=${'a'.repeat(40)}` }],
    ])('when X-Hub-Signature-256 is %s', (_label, h: HeaderBag) => {
      expectAuthError(() => verify({ 'x-github-delivery': DELIVERY, ...h }), 'missing_signature');
    });
  });

  describe('invalid_signature', () => {
    const hex = valid.slice('sha256='.length);
    it.each([
      ['another secret', () => githubSign(randomBytes(24).toString('hex'), BODY)],
      ['no prefix', () => hex],
      ['a sha1= prefix', () => `sha1=${hex}`],
      ['an upper-case prefix', () => `SHA256=${hex}`],
      ['63 hex digits', () => `sha256=${hex.slice(0, -1)}`],
      ['65 hex digits', () => `sha256=${hex}0`],
      ['a non-hex digit', () => `sha256=${hex.slice(0, -1)}g`],
      ['the signature in base64', () => `sha256=${Buffer.from(hex, 'hex').toString('base64')}`],
      ['a trailing space inside', () => `sha256=${hex} x`],
      ['two signatures', () => `sha256=${hex},sha256=${hex}`],
      ['garbage', () => 'not a signature'],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(headers(build())), 'invalid_signature');
    });

    it('when one byte of the body changes, or a byte is appended', () => {
      const altered = Buffer.from(BODY);
      altered[3] ^= 0x01;
      expectAuthError(() => verify(headers(valid), altered), 'invalid_signature');
      expectAuthError(() => verify(headers(valid), Buffer.concat([BODY, Buffer.from('\n')])), 'invalid_signature');
    });

    it('when the header is repeated', () => {
      expectAuthError(() => verify({ ...headers(valid), 'x-hub-signature-256': [valid, valid] }), 'invalid_signature');
    });

    it('when no key is given, or the key is not in the list', () => {
      expectAuthError(() => verify(headers(valid), BODY, []), 'invalid_signature');
      expectAuthError(
        () => verify(headers(valid), BODY, [scheme.prepareKey('another secret, long enough')]),
        'invalid_signature',
      );
    });

    it('tries only the first 11 keys', () => {
      const others = Array.from({ length: 11 }, () => scheme.prepareKey(randomBytes(24).toString('hex')));
      expect(verify(headers(valid), BODY, [...others.slice(0, 10), key]).deliveryId).toBe(DELIVERY);
      expectAuthError(() => verify(headers(valid), BODY, [...others, key]), 'invalid_signature');
    });

    it('for a huge header, quickly', () => {
      const started = process.hrtime.bigint();
      expectAuthError(() => verify(headers(`${valid}${' '.repeat(5000)}`)), 'invalid_signature');
      expectAuthError(() => verify(headers('f'.repeat(1_000_000))), 'invalid_signature');
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
    });
  });

  it('never reveals the secret, the expected signature or the body in its errors', () => {
    for (const h of [headers(githubSign('wrong secret, long enough', BODY)), headers('sha256=zz'), {}]) {
      let caught: unknown;
      try {
        verify(h);
      } catch (error) {
        caught = error;
      }
      const text = `${String(caught)} ${JSON.stringify(caught)} ${(caught as Error).stack ?? ''}`;
      for (const needle of [secret, valid.slice(7), BODY.toString()]) {
        expect(text).not.toContain(needle);
      }
    }
  });

  describe('secrets and options', () => {
    it('keys the HMAC with the secret as typed', () => {
      expect(scheme.prepareKey(VECTOR.secret)).toEqual(Buffer.from(VECTOR.secret, 'utf8'));
    });

    it.each([
      ['too short', 'x'.repeat(15)],
      ['too long', 'x'.repeat(513)],
      ['surrounded by whitespace', ` ${'x'.repeat(20)}`],
      ['holding a newline', `${'x'.repeat(10)}\n${'x'.repeat(10)}`],
    ])('refuses a secret %s, without echoing it', (_label, bad) => {
      expect(() => scheme.validateSecret(bad)).toThrow(Error);
      expect(() => scheme.prepareKey(bad)).toThrow(Error);
      try {
        scheme.validateSecret(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(bad.trim());
      }
    });

    it('accepts 16 and 512 characters', () => {
      expect(() => scheme.validateSecret('x'.repeat(16))).not.toThrow();
      expect(() => scheme.validateSecret('x'.repeat(512))).not.toThrow();
    });

    it('takes no options', () => {
      expect(scheme.validateOptions(undefined)).toEqual({});
      expect(scheme.validateOptions(null)).toEqual({});
      expect(scheme.validateOptions({})).toEqual({});
      expect(() => scheme.validateOptions({ signatureHeader: 'x-sig' })).toThrow(/Unknown option "signatureHeader"/);
      expect(() => scheme.validateOptions('x')).toThrow(/must be an object/);
    });
  });
});
