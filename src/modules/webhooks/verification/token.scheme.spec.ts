import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { TokenScheme } from './token.scheme.js';
import type { HeaderBag, PreparedKey, SchemeOptions } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

const scheme = new TokenScheme();
const NOW = 1_700_000_000;
const BODY = Buffer.from('{"alert":"disk full","host":"db-1"}');

describe('TokenScheme', () => {
  const token = `whsec_${randomBytes(32).toString('base64')}`;
  const key = scheme.prepareKey(token);
  const plain = scheme.validateOptions({ tokenHeader: 'X-Webhook-Token' });
  const bearer = scheme.validateOptions({ tokenHeader: 'Authorization', prefix: 'Bearer ', idHeader: 'X-Alert-Id' });
  const verify = (h: HeaderBag, options: SchemeOptions = plain, keys: readonly PreparedKey[] = [key]) =>
    scheme.verify({ headers: h, rawBody: BODY }, keys, 300, NOW, options);

  it('is named token, generates a secret unless given one, and signs no timestamp', () => {
    expect(scheme.name).toBe('token');
    expect(scheme.generatesSecret).toBe(true);
    expect(scheme.usesTimestamp).toBe(false);
  });

  describe('validateOptions', () => {
    it('normalises header names and fills in the prefix', () => {
      expect(plain).toEqual({ tokenHeader: 'x-webhook-token', prefix: '' });
      expect(bearer).toEqual({ tokenHeader: 'authorization', prefix: 'Bearer ', idHeader: 'x-alert-id' });
    });

    it.each([
      ['nothing', undefined, /needs tokenHeader/],
      ['a bad header name', { tokenHeader: 'x token' }, /HTTP header name/],
      ['a reserved header', { tokenHeader: 'Cookie' }, /cannot be cookie/],
      ['an encoding', { tokenHeader: 'x-token', encoding: 'hex' }, /Unknown option "encoding"/],
      ['the same id and token header', { tokenHeader: 'x-token', idHeader: 'x-token' }, /must differ/],
      ['a bad prefix', { tokenHeader: 'x-token', prefix: '\nBearer' }, /prefix/],
    ])('refuses %s', (_label, raw, message) => {
      expect(() => scheme.validateOptions(raw)).toThrow(message);
    });
  });

  describe('accepts', () => {
    it('the token, deduplicating on the body hash without an id header', () => {
      expect(verify({ 'x-webhook-token': token })).toEqual({
        deliveryId: `sha256:${createHash('sha256').update(BODY).digest('hex')}`,
        timestamp: null,
      });
    });

    it('Authorization: Bearer <token>, deduplicating on the id header', () => {
      expect(verify({ authorization: `Bearer ${token}`, 'x-alert-id': 'alert-7' }, bearer)).toEqual({
        deliveryId: 'alert-7',
        timestamp: null,
      });
    });

    it('either token during rotation', () => {
      const oldToken = randomBytes(24).toString('hex');
      const keys = [key, scheme.prepareKey(oldToken)];
      expect(verify({ 'x-webhook-token': token }, plain, keys).timestamp).toBeNull();
      expect(verify({ 'x-webhook-token': oldToken }, plain, keys).timestamp).toBeNull();
    });
  });

  it('missing_signature without the header', () => {
    expectAuthError(() => verify({}), 'missing_signature');
    expectAuthError(() => verify({ 'x-webhook-token': '' }), 'missing_signature');
    expectAuthError(() => verify({ authorization: `Bearer ${token}` }), 'missing_signature');
  });

  describe('invalid_signature', () => {
    it.each([
      ['another token', () => randomBytes(32).toString('hex')],
      ['the token with a character missing', () => token.slice(0, -1)],
      ['the token with a character more', () => `${token}x`],
      ['the token in another case', () => token.toUpperCase()],
      ['the token twice', () => `${token}${token}`],
      ['a 513-character value', () => 'x'.repeat(513)],
      ['the token with Bearer where none is configured', () => `Bearer ${token}`],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify({ 'x-webhook-token': build() }), 'invalid_signature');
    });

    it('for a wrong or missing prefix', () => {
      expectAuthError(() => verify({ authorization: token }, bearer), 'invalid_signature');
      expectAuthError(() => verify({ authorization: `bearer ${token}` }, bearer), 'invalid_signature');
      expectAuthError(() => verify({ authorization: `Basic ${token}` }, bearer), 'invalid_signature');
      expectAuthError(() => verify({ authorization: 'Bearer ' }, bearer), 'invalid_signature');
    });

    it('for a repeated header', () => {
      expectAuthError(() => verify({ 'x-webhook-token': [token, token] }), 'invalid_signature');
    });

    it('for the prepared key sent as the token (the key is a digest, not the token)', () => {
      expect(Buffer.isBuffer(key) && key.includes(Buffer.from(token))).toBe(false);
      expectAuthError(() => verify({ 'x-webhook-token': (key as Buffer).toString('hex') }), 'invalid_signature');
    });

    it('tries only the first 11 tokens', () => {
      const others = Array.from({ length: 11 }, () => scheme.prepareKey(randomBytes(24).toString('hex')));
      expect(verify({ 'x-webhook-token': token }, plain, [...others.slice(0, 10), key]).timestamp).toBeNull();
      expectAuthError(() => verify({ 'x-webhook-token': token }, plain, [...others, key]), 'invalid_signature');
    });
  });

  it('never reveals the token in its errors', () => {
    for (const h of [{ 'x-webhook-token': `${token}x` }, {}, { 'x-webhook-token': 'wrong-token-value-123' }]) {
      let caught: unknown;
      try {
        verify(h);
      } catch (error) {
        caught = error;
      }
      const text = `${String(caught)} ${JSON.stringify(caught)} ${(caught as Error).stack ?? ''}`;
      expect(text).not.toContain(token);
      expect(text).not.toContain('wrong-token-value-123');
    }
  });

  it('fails loudly, not open, without its options', () => {
    expect(() => scheme.verify({ headers: { 'x-webhook-token': token }, rawBody: BODY }, [key], 300, NOW)).toThrow(
      TypeError,
    );
  });

  it('refuses tokens that cannot travel in a header, or are too short', () => {
    expect(() => scheme.validateSecret('ünïcode-token-value')).toThrow(/printable ASCII/);
    expect(() => scheme.validateSecret('short')).toThrow(/16 to 512/);
    expect(() => scheme.validateSecret(`${'a'.repeat(10)}\r\n${'a'.repeat(10)}`)).toThrow(Error);
    expect(() => scheme.validateSecret(token)).not.toThrow();
  });
});
