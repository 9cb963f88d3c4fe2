import { createHash, createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { StripeScheme } from './stripe.scheme.js';
import type { PreparedKey } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

const scheme = new StripeScheme();
const NOW = 1_700_000_000;
const TOLERANCE = 300;
const EVENT_ID = 'evt_1NG8Du2eZvKYlo2CUI79vXWy';
const BODY = Buffer.from(
  JSON.stringify({ id: EVENT_ID, object: 'event', type: 'invoice.paid', data: { object: { note: 'ünïcode' } } }),
  'utf8',
);

function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/**
 * Stripe's documented scheme, written independently of ours (the `stripe` package is not installed):
 * v1 = hex HMAC-SHA256 of `${t}.${payload}`, keyed with the whole endpoint secret string.
 */
function v1(secret: string, t: number | string, payload: Buffer | string): string {
  return createHmac('sha256', secret).update(`${t}.`).update(payload).digest('hex');
}

function stripeHeader(secret: string, t: number | string = NOW, payload: Buffer | string = BODY): string {
  return `t=${t},v1=${v1(secret, t, payload)}`;
}

describe('StripeScheme', () => {
  const secret = newSecret();
  const key = scheme.prepareKey(secret);
  const valid = stripeHeader(secret);
  const verify = (
    header: string | string[] | undefined,
    rawBody = BODY,
    keys: readonly PreparedKey[] = [key],
    now = NOW,
  ) => scheme.verify({ headers: { 'stripe-signature': header }, rawBody }, keys, TOLERANCE, now);

  it('is named stripe, needs the endpoint secret and signs a timestamp', () => {
    expect(scheme.name).toBe('stripe');
    expect(scheme.generatesSecret).toBe(false);
    expect(scheme.usesTimestamp).toBe(true);
  });

  it('matches a fixed example of the documented algorithm', () => {
    // printf '1700000000.{"id":"evt_test"}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123456789'
    const header = 't=1700000000,v1=f603431119b047e7a9ed93cada5c9c371a26898ff9e7cd8975e58b10134af373';
    const body = Buffer.from('{"id":"evt_test"}');
    expect(
      scheme.verify(
        { headers: { 'stripe-signature': header }, rawBody: body },
        [scheme.prepareKey('whsec_test_secret_0123456789')],
        TOLERANCE,
        NOW,
      ),
    ).toEqual({
      deliveryId: 'evt_test',
      timestamp: NOW,
    });
  });

  describe('accepts', () => {
    it('a valid header, deduplicated on the event id', () => {
      expect(verify(valid)).toEqual({ deliveryId: EVENT_ID, timestamp: NOW });
    });

    it('several v1 entries (Stripe rolling its secret), a v0 entry and unknown entries, in any order', () => {
      const right = v1(secret, NOW, BODY);
      const wrong = v1(newSecret(), NOW, BODY);
      expect(verify(`t=${NOW},v1=${wrong},v1=${right}`).deliveryId).toBe(EVENT_ID);
      expect(verify(`v1=${right},v0=${'0'.repeat(64)},t=${NOW},x=y,junk`).deliveryId).toBe(EVENT_ID);
    });

    it('upper-case hex', () => {
      expect(verify(`t=${NOW},v1=${v1(secret, NOW, BODY).toUpperCase()}`).deliveryId).toBe(EVENT_ID);
    });

    it('a timestamp exactly at the edge of the tolerance, past and future', () => {
      for (const t of [NOW - TOLERANCE, NOW + TOLERANCE]) {
        expect(verify(stripeHeader(secret, t)).timestamp).toBe(t);
      }
    });

    it('during rotation, a signature under either the new or the old secret', () => {
      const oldSecret = newSecret();
      const keys = [key, scheme.prepareKey(oldSecret)];
      expect(verify(valid, BODY, keys).deliveryId).toBe(EVENT_ID);
      expect(verify(stripeHeader(oldSecret), BODY, keys).deliveryId).toBe(EVENT_ID);
    });
  });

  describe('deduplication id', () => {
    const hashOf = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

    it.each([
      ['not JSON', 'id=evt_1'],
      ['a JSON array', '[{"id":"evt_1"}]'],
      ['JSON without id', '{"object":"event"}'],
      ['a numeric id', '{"id":42}'],
      ['an id with a space', '{"id":"evt 1"}'],
      ['an id over 256 characters', JSON.stringify({ id: 'e'.repeat(257) })],
      ['an id only in a nested object', '{"data":{"id":"evt_1"}}'],
    ])('is sha256:<hex> of the body for %s', (_label, text) => {
      const body = Buffer.from(text);
      expect(verify(stripeHeader(secret, NOW, body), body).deliveryId).toBe(hashOf(body));
    });

    it('stays the same when Stripe retries with a new timestamp', () => {
      expect(verify(stripeHeader(secret, NOW - 100)).deliveryId).toBe(verify(valid).deliveryId);
    });
  });

  describe('missing_signature', () => {
    it.each([
      ['absent', undefined],
      ['empty', ''],
      ['an empty list', []],
    ])('when Stripe-Signature is %s', (_label, header) => {
      expectAuthError(() => verify(header), 'missing_signature');
    });
  });

  describe('timestamp_out_of_tolerance', () => {
    it.each([
      ['past', NOW - TOLERANCE - 1],
      ['future', NOW + TOLERANCE + 1],
      ['far past', 0],
      ['far future', 9_999_999_999],
    ])('one second or more beyond the tolerance (%s), though correctly signed', (_label, t) => {
      expectAuthError(() => verify(stripeHeader(secret, t)), 'timestamp_out_of_tolerance');
    });

    it.each([
      ['empty', ''],
      ['signed', `+${NOW}`],
      ['negative', `-${NOW}`],
      ['decimal', `${NOW}.0`],
      ['exponent', '1.7e9'],
      ['11 digits', `0${NOW}`],
      ['milliseconds', `${NOW}000`],
      ['a space', ` ${NOW}`],
      ['hex', '0x6553f100'],
      ['unicode digits', '١٧٠٠٠٠٠٠٠٠'],
    ])('when t is not an integer of 1-10 digits (%s), though signed as such', (_label, t) => {
      expectAuthError(() => verify(stripeHeader(secret, t)), 'timestamp_out_of_tolerance');
    });
  });

  describe('invalid_signature', () => {
    const right = v1(secret, NOW, BODY);

    it.each([
      ['another secret', () => stripeHeader(newSecret())],
      [
        'a key made of the base64-decoded secret',
        () =>
          `t=${NOW},v1=${createHmac('sha256', Buffer.from(secret.slice(6), 'base64url'))
            .update(`${NOW}.`)
            .update(BODY)
            .digest('hex')}`,
      ],
      ['no t', () => `v1=${right}`],
      ['two t entries', () => `t=${NOW},t=${NOW},v1=${right}`],
      ['no v1', () => `t=${NOW}`],
      ['only a v0 entry with the right value', () => `t=${NOW},v0=${right}`],
      ['63 hex digits', () => `t=${NOW},v1=${right.slice(1)}`],
      ['65 hex digits', () => `t=${NOW},v1=${right}0`],
      ['non-hex', () => `t=${NOW},v1=${right.slice(1)}z`],
      ['the signature in base64', () => `t=${NOW},v1=${Buffer.from(right, 'hex').toString('base64')}`],
      ['spaces after commas', () => `t=${NOW}, v1=${right}`],
      ['semicolons instead of commas', () => `v1=${right};t=${NOW}`],
      ['the timestamp signed differently from the header', () => `t=${NOW},v1=${v1(secret, NOW + 1, BODY)}`],
      ['garbage', () => 'not a signature'],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(build()), 'invalid_signature');
    });

    it('when the body changes', () => {
      expectAuthError(() => verify(valid, Buffer.from(BODY.toString().replace('paid', 'void'))), 'invalid_signature');
    });

    it('when the header is repeated', () => {
      expectAuthError(() => verify([valid, valid]), 'invalid_signature');
    });

    it('considers only the first 10 v1 entries', () => {
      const junk = (n: number) => Array.from({ length: n }, () => `v1=${randomBytes(32).toString('hex')}`).join(',');
      expect(verify(`t=${NOW},${junk(9)},v1=${right}`).deliveryId).toBe(EVENT_ID);
      expectAuthError(() => verify(`t=${NOW},${junk(10)},v1=${right}`), 'invalid_signature');
    });

    it('tries only the first 11 keys', () => {
      const others = Array.from({ length: 11 }, () => scheme.prepareKey(newSecret()));
      expect(verify(valid, BODY, [...others.slice(0, 10), key]).deliveryId).toBe(EVENT_ID);
      expectAuthError(() => verify(valid, BODY, [...others, key]), 'invalid_signature');
    });

    it('for a header over 4 KiB, quickly', () => {
      const started = process.hrtime.bigint();
      expectAuthError(() => verify(`${valid},${'x=1,'.repeat(1100)}`), 'invalid_signature');
      expectAuthError(() => verify('t='.repeat(500_000)), 'invalid_signature');
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(200);
    });
  });

  it('never reveals the secret, the expected signature or the body in its errors', () => {
    for (const header of [
      stripeHeader(newSecret()),
      stripeHeader(secret, NOW + 10_000),
      `t=abc,v1=${'0'.repeat(64)}`,
    ]) {
      let caught: unknown;
      try {
        verify(header);
      } catch (error) {
        caught = error;
      }
      const text = `${String(caught)} ${JSON.stringify(caught)} ${(caught as Error).stack ?? ''}`;
      for (const needle of [secret, v1(secret, NOW, BODY), EVENT_ID, BODY.toString()]) {
        expect(text).not.toContain(needle);
      }
    }
  });

  describe('secrets and options', () => {
    it('keys the HMAC with the whole secret string, whsec_ included', () => {
      expect(scheme.prepareKey(secret)).toEqual(Buffer.from(secret, 'utf8'));
    });

    it.each([
      ['an API key', `sk_live_${randomBytes(24).toString('hex')}`],
      ['a secret without its prefix', randomBytes(24).toString('hex')],
      ['a short secret', 'whsec_abc'],
      ['a secret with a space', `whsec_${'a'.repeat(10)} ${'b'.repeat(10)}`],
      ['non-ASCII', `whsec_${'é'.repeat(20)}`],
    ])('refuses %s, without echoing it', (_label, bad) => {
      let caught: unknown;
      try {
        scheme.validateSecret(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(Error);
      expect((caught as Error).message).not.toContain(bad.slice(6));
      expect(() => scheme.prepareKey(bad)).toThrow(Error);
    });

    it('takes no options', () => {
      expect(scheme.validateOptions({})).toEqual({});
      expect(() => scheme.validateOptions({ tokenHeader: 'x' })).toThrow(Error);
    });
  });
});
