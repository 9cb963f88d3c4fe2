import { createHmac, generateKeyPairSync, KeyObject, randomBytes, sign } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';
import { Webhook } from 'standardwebhooks';

import { signStandardWebhook, StandardWebhooksScheme } from './standard-webhooks.scheme.js';
import type { HeaderBag, PreparedKey } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

// Published Standard Webhooks / Svix test vector.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  payload: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

const scheme = new StandardWebhooksScheme();
const NOW = 1_700_000_000;
const TOLERANCE = 300;
const ID = 'msg_2mXxXbtdRCnDBhJNdFvoG3dVXqP';
const BODY = Buffer.from('{"order":{"id":42,"total":"19.99"},"note":"ünïcode"}', 'utf8');

/** prepareKey also returns ed25519 public keys (as KeyObject); these tests use HMAC keys, which are Buffers. */
function hmacKey(secret: string): Buffer {
  const key = scheme.prepareKey(secret);
  if (!Buffer.isBuffer(key)) throw new Error('expected an HMAC key');
  return key;
}

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The reference signer: the `standardwebhooks` npm package, not our own code. */
function referenceSign(secret: string, id: string, timestamp: number, payload: string | Buffer): string {
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), payload);
}

function headers(signature: string, id = ID, timestamp: string | number = NOW): HeaderBag {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

describe('StandardWebhooksScheme', () => {
  const secret = newSecret();
  const key = hmacKey(secret);
  const valid = referenceSign(secret, ID, NOW, BODY);
  const verify = (h: HeaderBag, rawBody = BODY, keys: readonly Buffer[] = [key], tolerance = TOLERANCE, now = NOW) =>
    scheme.verify({ headers: h, rawBody }, keys, tolerance, now);

  it('is named standard-webhooks', () => {
    expect(scheme.name).toBe('standard-webhooks');
  });

  describe('published test vector', () => {
    const vectorKey = hmacKey(VECTOR.secret);
    const request = {
      headers: headers(VECTOR.signature, VECTOR.id, VECTOR.timestamp),
      rawBody: Buffer.from(VECTOR.payload),
    };

    it('verifies', () => {
      expect(scheme.verify(request, [vectorKey], TOLERANCE, VECTOR.timestamp)).toEqual({
        deliveryId: VECTOR.id,
        timestamp: VECTOR.timestamp,
      });
    });

    it('is what the reference implementation produces', () => {
      expect(referenceSign(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
    });

    it('is what signStandardWebhook produces', () => {
      expect(signStandardWebhook(vectorKey, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.payload))).toBe(
        VECTOR.signature,
      );
    });

    it('fails one second past the tolerance', () => {
      expectAuthError(
        () => scheme.verify(request, [vectorKey], TOLERANCE, VECTOR.timestamp + TOLERANCE + 1),
        'timestamp_out_of_tolerance',
      );
    });
  });

  describe('accepts', () => {
    it('a signature made by the reference implementation', () => {
      expect(verify(headers(valid))).toEqual({ deliveryId: ID, timestamp: NOW });
    });

    it('the svix-* header names', () => {
      const h = { 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': valid };
      expect(verify(h)).toEqual({ deliveryId: ID, timestamp: NOW });
    });

    it('webhook-* over svix-* when both are sent', () => {
      const h = { ...headers(valid), 'svix-id': 'other', 'svix-timestamp': '1', 'svix-signature': 'v1,garbage' };
      expect(verify(h)).toEqual({ deliveryId: ID, timestamp: NOW });
    });

    it('svix-* when the webhook-* header is empty', () => {
      const h = { ...headers(valid), 'webhook-signature': '', 'svix-signature': valid };
      expect(verify(h).deliveryId).toBe(ID);
    });

    it('an empty body', () => {
      const signature = referenceSign(secret, ID, NOW, '');
      expect(verify(headers(signature), Buffer.alloc(0)).deliveryId).toBe(ID);
    });

    it('a body that is not UTF-8, signed over its raw bytes', () => {
      const body = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x7b, 0x7d]);
      const digest = createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
        .update(Buffer.concat([Buffer.from(`${ID}.${NOW}.`), body]))
        .digest('base64');
      expect(verify(headers(`v1,${digest}`), body).deliveryId).toBe(ID);
    });

    it.each([
      ['first', (v: string) => `${v} v1,${randomBytes(32).toString('base64')} v1,bad`],
      ['last', (v: string) => `v1,${randomBytes(32).toString('base64')} v1a,xyz nonsense ${v}`],
      ['among garbage', (v: string) => `v1, ,,, v2,abc ${v} v1,!!!! x`],
      ['with extra spaces', (v: string) => `  ${v}   v1,${randomBytes(32).toString('base64')} `],
    ])('the valid signature %s in a list', (_where, build) => {
      expect(verify(headers(build(valid))).deliveryId).toBe(ID);
    });

    it('repeated signature headers (array), and as node joins them (", ")', () => {
      const other = `v1,${randomBytes(32).toString('base64')}`;
      expect(verify({ ...headers(valid), 'webhook-signature': [other, valid] }).deliveryId).toBe(ID);
      expect(verify(headers(`${valid}, ${other}`)).deliveryId).toBe(ID);
    });

    it('a timestamp exactly at the edge of the tolerance, past and future', () => {
      for (const ts of [NOW - TOLERANCE, NOW + TOLERANCE]) {
        expect(verify(headers(referenceSign(secret, ID, ts, BODY), ID, ts)).timestamp).toBe(ts);
      }
    });

    it('a zero tolerance when the clocks agree', () => {
      expect(verify(headers(valid), BODY, [key], 0).timestamp).toBe(NOW);
    });

    it('during rotation, a signature under either the new or the old key', () => {
      const oldSecret = newSecret();
      const oldKey = hmacKey(oldSecret);
      const newKey = key;
      expect(verify(headers(valid), BODY, [newKey, oldKey]).deliveryId).toBe(ID);
      expect(verify(headers(referenceSign(oldSecret, ID, NOW, BODY)), BODY, [newKey, oldKey]).deliveryId).toBe(ID);
    });

    it('a sender that signs with both keys during its own rotation', () => {
      const oldSecret = newSecret();
      const both = `${referenceSign(oldSecret, ID, NOW, BODY)} ${valid}`;
      expect(verify(headers(both), BODY, [key]).deliveryId).toBe(ID);
    });
  });

  describe('missing_signature', () => {
    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('when %s is absent', (name) => {
      const h = headers(valid);
      delete h[name];
      expectAuthError(() => verify(h), 'missing_signature');
    });

    it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('when %s is empty', (name) => {
      expectAuthError(() => verify({ ...headers(valid), [name]: '' }), 'missing_signature');
    });

    it('when a header is an empty list', () => {
      expectAuthError(() => verify({ ...headers(valid), 'webhook-signature': [] }), 'missing_signature');
    });

    it('when there are no headers at all', () => {
      expectAuthError(() => verify({}), 'missing_signature');
    });

    it('when a svix-* set is incomplete', () => {
      expectAuthError(() => verify({ 'svix-id': ID, 'svix-signature': valid }), 'missing_signature');
    });
  });

  describe('timestamp_out_of_tolerance', () => {
    it.each([
      ['past', NOW - TOLERANCE - 1],
      ['future', NOW + TOLERANCE + 1],
      ['far past', 0],
      ['far future', 9_999_999_999],
    ])('one second or more beyond the tolerance (%s)', (_label, ts) => {
      expectAuthError(() => verify(headers(referenceSign(secret, ID, ts, BODY), ID, ts)), 'timestamp_out_of_tolerance');
    });

    it.each([
      ['signed', `+${NOW}`],
      ['negative', `-${NOW}`],
      ['decimal', `${NOW}.0`],
      ['exponent', '1.7e9'],
      ['11 digits', `0${NOW}`],
      ['spaces', ` ${NOW}`],
      ['letters', 'now'],
      ['hex', '0x6553f100'],
      ['milliseconds', `${NOW}000`],
      ['unicode digits', '١٧٠٠٠٠٠٠٠٠'],
    ])('when the timestamp is not an integer of 1-10 digits (%s)', (_label, ts) => {
      expectAuthError(() => verify(headers(valid, ID, ts)), 'timestamp_out_of_tolerance');
    });

    it('when the timestamp header is repeated', () => {
      const h = { ...headers(valid), 'webhook-timestamp': [String(NOW), String(NOW)] };
      expectAuthError(() => verify(h), 'timestamp_out_of_tolerance');
    });
  });

  describe('invalid_signature', () => {
    const random32 = () => randomBytes(32).toString('base64');

    it.each([
      ['another key', () => referenceSign(newSecret(), ID, NOW, BODY)],
      ['random bytes', () => `v1,${random32()}`],
      ['an empty v1 entry', () => 'v1,'],
      ['a bare signature without version', () => valid.slice(3)],
      ['the right signature under v1a', () => `v1a,${valid.slice(3)}`],
      ['the right signature under V1', () => `V1,${valid.slice(3)}`],
      ['only a v1a entry', () => `v1a,${random32()}`],
      ['31 bytes', () => `v1,${randomBytes(31).toString('base64')}`],
      ['33 bytes', () => `v1,${randomBytes(33).toString('base64')}`],
      ['64 bytes (a SHA-512 size)', () => `v1,${randomBytes(64).toString('base64')}`],
      ['the right signature truncated', () => valid.slice(0, -2)],
      ['the right signature without padding', () => valid.slice(0, -1)],
      ['the right signature with extra padding', () => `${valid}=`],
      ['the right signature in base64url', () => `v1,${Buffer.from(valid.slice(3), 'base64').toString('base64url')}`],
      ['the right signature in hex', () => `v1,${Buffer.from(valid.slice(3), 'base64').toString('hex')}`],
      ['non-base64 characters', () => `v1,${'!'.repeat(43)}=`],
      ['a comma-separated pair', () => `v1,${random32()},${valid.slice(3)}`],
      ['garbage', () => 'not a signature at all'],
      ['punctuation', () => ',,,, ,'],
      ['a NUL character', () => `v1,${'\u0000'.repeat(44)}`],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(headers(build())), 'invalid_signature');
    });

    it('for the right signature with non-zero padding bits', () => {
      // Same decoded bytes, different spelling: the last base64 character carries 2 unused bits.
      const text = valid.slice(3);
      const last = text.charAt(42);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const tweaked = `${text.slice(0, 42)}${alphabet.charAt(alphabet.indexOf(last) + 1)}=`;
      expect(Buffer.from(tweaked, 'base64').equals(Buffer.from(text, 'base64'))).toBe(true);
      expectAuthError(() => verify(headers(`v1,${tweaked}`)), 'invalid_signature');
    });

    it('when one byte of the body changes', () => {
      const altered = Buffer.from(BODY);
      altered[5] ^= 0x01;
      expectAuthError(() => verify(headers(valid), altered), 'invalid_signature');
    });

    it('when the body is re-serialised (same JSON, different whitespace)', () => {
      const raw = Buffer.from('{"a": 1,  "b": [1, 2]}');
      const signature = referenceSign(secret, ID, NOW, raw);
      expect(verify(headers(signature), raw).deliveryId).toBe(ID);
      const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString())));
      expectAuthError(() => verify(headers(signature), reserialised), 'invalid_signature');
    });

    it('when a byte is appended to the body', () => {
      expectAuthError(() => verify(headers(valid), Buffer.concat([BODY, Buffer.from(' ')])), 'invalid_signature');
    });

    it('when the id or timestamp differs from what was signed', () => {
      expectAuthError(() => verify(headers(valid, `${ID}x`)), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, ID, NOW + 1)), 'invalid_signature');
    });

    it('when the timestamp is spelled with leading zeros (the header text is what is signed)', () => {
      const padded = `0${NOW - 1_000_000_000}`;
      const ts = Number(padded);
      const h = headers(referenceSign(secret, ID, ts, BODY), ID, padded);
      expectAuthError(() => verify(h, BODY, [key], TOLERANCE, ts), 'invalid_signature');
    });

    it('when the key is not in the list', () => {
      const other = hmacKey(newSecret());
      expectAuthError(() => verify(headers(valid), BODY, [other]), 'invalid_signature');
      expectAuthError(() => verify(headers(valid), BODY, []), 'invalid_signature');
    });

    it('when the id is repeated or malformed', () => {
      // Signed over the ids as node would join them, so only the refusal of a repeated id can fail this.
      const joined = referenceSign(secret, `${ID},${ID}`, NOW, BODY);
      expectAuthError(() => verify({ ...headers(joined), 'webhook-id': [ID, ID] }), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, 'x'.repeat(257))), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, 'msg id')), 'invalid_signature');
      expectAuthError(() => verify(headers(valid, 'msg\u00e9')), 'invalid_signature');
    });

    it('for a huge signature header, quickly', () => {
      const started = process.hrtime.bigint();
      expectAuthError(() => verify(headers(`${'v1,'.repeat(400_000)} ${valid}`)), 'invalid_signature');
      expectAuthError(() => verify(headers('x'.repeat(4097))), 'invalid_signature');
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(500);
    });

    it('accepts a header at the 4 KiB cap and rejects one character more', () => {
      const filler = 'v1a,x ';
      const atCap = `${filler.repeat(Math.floor((4096 - valid.length) / filler.length))}`;
      const header = `${atCap}${' '.repeat(4096 - atCap.length - valid.length)}${valid}`;
      expect(header.length).toBe(4096);
      expect(verify(headers(header)).deliveryId).toBe(ID);
      expectAuthError(() => verify(headers(` ${header}`)), 'invalid_signature');
    });

    it('considers only the first 10 v1 entries', () => {
      const junk = (n: number) => Array.from({ length: n }, () => `v1,${random32()}`).join(' ');
      expect(verify(headers(`${junk(9)} ${valid}`)).deliveryId).toBe(ID);
      expectAuthError(() => verify(headers(`${junk(10)} ${valid}`)), 'invalid_signature');
    });

    it('tries only the first 11 keys (the current secret and 10 in their grace period)', () => {
      const others = Array.from({ length: 11 }, () => hmacKey(newSecret()));
      expect(verify(headers(valid), BODY, [...others.slice(0, 10), key]).deliveryId).toBe(ID);
      expectAuthError(() => verify(headers(valid), BODY, [...others, key]), 'invalid_signature');
    });
  });

  it('never reveals the secret, the expected signature or the body in its errors', () => {
    const cases: HeaderBag[] = [
      headers(`v1,${randomBytes(32).toString('base64')}`),
      headers(valid, ID, NOW + 10_000),
      headers(valid, ID, 'abc'),
      {},
    ];
    for (const h of cases) {
      try {
        verify(h, Buffer.from(BODY));
      } catch (error) {
        const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
        for (const needle of [secret, secret.slice(6), valid, valid.slice(3), BODY.toString(), key.toString('hex')]) {
          expect(text).not.toContain(needle);
        }
        continue;
      }
      throw new Error('expected verification to fail');
    }
  });

  it('fails loudly, not open, on a non-finite tolerance or clock', () => {
    expect(() => verify(headers(valid), BODY, [key], Number.NaN)).toThrow(RangeError);
    expect(() => verify(headers(valid), BODY, [key], TOLERANCE, Number.NaN)).toThrow(RangeError);
    expect(() => verify(headers(valid), BODY, [key], -1)).toThrow(RangeError);
  });

  describe('prepareKey', () => {
    it('decodes the part after whsec_', () => {
      expect(hmacKey(VECTOR.secret).equals(Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'))).toBe(true);
      const bytes = randomBytes(32);
      expect(hmacKey(`whsec_${bytes.toString('base64')}`).equals(bytes)).toBe(true);
    });

    it('accepts a secret without the prefix, as svix does', () => {
      const bytes = randomBytes(24);
      expect(hmacKey(bytes.toString('base64')).equals(bytes)).toBe(true);
    });

    it('accepts 24 and 64 bytes', () => {
      expect(scheme.prepareKey(`whsec_${randomBytes(24).toString('base64')}`)).toHaveLength(24);
      expect(scheme.prepareKey(`whsec_${randomBytes(64).toString('base64')}`)).toHaveLength(64);
    });

    it.each([
      ['empty', ''],
      ['prefix only', 'whsec_'],
      ['23 bytes', `whsec_${randomBytes(23).toString('base64')}`],
      ['65 bytes', `whsec_${randomBytes(65).toString('base64')}`],
      ['a huge value', `whsec_${randomBytes(4096).toString('base64')}`],
      ['base64url characters', `whsec_${'-_'.repeat(16)}`],
      ['missing padding', `whsec_${randomBytes(32).toString('base64').replace(/=+$/, '')}`],
      ['non-base64 characters', 'whsec_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'],
      ['inner whitespace', `whsec_${randomBytes(12).toString('base64')} ${randomBytes(12).toString('base64')}`],
      ['surrounding whitespace', ` whsec_${randomBytes(32).toString('base64')}`],
      ['another prefix', `whsk_${randomBytes(32).toString('base64')}`],
      [
        'the prefix after other text',
        `${randomBytes(12).toString('base64')}whsec_${randomBytes(24).toString('base64')}`,
      ],
      ['the prefix twice', `whsec_whsec_${randomBytes(32).toString('base64')}`],
    ])('rejects %s with a message that does not echo it', (_label, bad) => {
      let caught: unknown;
      try {
        scheme.prepareKey(bad);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(Error);
      if (bad.length > 'whsec_'.length) {
        expect((caught as Error).message).not.toContain(bad.slice('whsec_'.length));
      }
    });
  });

  describe('signStandardWebhook', () => {
    it('is verified by the reference implementation', () => {
      const signature = signStandardWebhook(key, ID, NOW, BODY);
      const reference = new Webhook(secret);
      const nowSeconds = Math.floor(Date.now() / 1000);
      const fresh = signStandardWebhook(key, ID, nowSeconds, BODY);
      expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(() =>
        reference.verify(BODY, {
          'webhook-id': ID,
          'webhook-timestamp': String(nowSeconds),
          'webhook-signature': fresh,
        }),
      ).not.toThrow();
    });
  });
});

describe('StandardWebhooksScheme with ed25519 public keys (whpk_, v1a)', () => {
  /** `whpk_` + base64 of the raw 32-byte key: the last 32 bytes of its SPKI DER encoding. */
  const whpk = (key: KeyObject) =>
    `whpk_${key.export({ type: 'spki', format: 'der' }).subarray(-32).toString('base64')}`;
  /** The spec's v1a: ed25519 over the same `${id}.${timestamp}.${body}` content, base64 of the 64-byte signature. */
  const signV1a = (privateKey: KeyObject, id = ID, ts: number | string = NOW, body = BODY) =>
    `v1a,${sign(null, Buffer.concat([Buffer.from(`${id}.${ts}.`), body]), privateKey).toString('base64')}`;

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const key = scheme.prepareKey(whpk(publicKey));
  const valid = signV1a(privateKey);
  const verify = (h: HeaderBag, rawBody = BODY, keys: readonly PreparedKey[] = [key], now = NOW) =>
    scheme.verify({ headers: h, rawBody }, keys, TOLERANCE, now);

  it('prepares a whpk_ value as an ed25519 public KeyObject, not as HMAC bytes', () => {
    expect(key).toBeInstanceOf(KeyObject);
    expect((key as KeyObject).type).toBe('public');
    expect((key as KeyObject).asymmetricKeyType).toBe('ed25519');
    expect((key as KeyObject).equals(publicKey)).toBe(true);
    expect(() => scheme.validateSecret(whpk(publicKey))).not.toThrow();
  });

  describe('accepts', () => {
    it('a v1a signature', () => {
      expect(verify(headers(valid))).toEqual({ deliveryId: ID, timestamp: NOW });
    });

    it('a v1a signature among v1 and junk entries', () => {
      expect(verify(headers(`v1,${randomBytes(32).toString('base64')} v1a,bad ${valid}`)).deliveryId).toBe(ID);
    });

    it('during rotation between a whsec_ secret and a whpk_ key, either signature', () => {
      const secret = newSecret();
      const keys = [hmacKey(secret), key];
      expect(verify(headers(valid), BODY, keys).deliveryId).toBe(ID);
      expect(verify(headers(referenceSign(secret, ID, NOW, BODY)), BODY, keys).deliveryId).toBe(ID);
      expect(verify(headers(referenceSign(secret, ID, NOW, BODY)), BODY, [key, hmacKey(secret)]).deliveryId).toBe(ID);
    });

    it('during rotation between two whpk_ keys, either signature', () => {
      const next = generateKeyPairSync('ed25519');
      const keys = [scheme.prepareKey(whpk(next.publicKey)), key];
      expect(verify(headers(valid), BODY, keys).deliveryId).toBe(ID);
      expect(verify(headers(signV1a(next.privateKey)), BODY, keys).deliveryId).toBe(ID);
    });
  });

  describe('invalid_signature', () => {
    const signature = valid.slice(4);

    it.each([
      ['another key pair', () => signV1a(generateKeyPairSync('ed25519').privateKey)],
      ['the signature labelled v1', () => `v1,${signature}`],
      ['the signature labelled V1A', () => `V1A,${signature}`],
      ['63 bytes', () => `v1a,${Buffer.from(signature, 'base64').subarray(1).toString('base64')}`],
      [
        '65 bytes',
        () => `v1a,${Buffer.concat([Buffer.from(signature, 'base64'), Buffer.alloc(1)]).toString('base64')}`,
      ],
      ['base64url', () => `v1a,${Buffer.from(signature, 'base64').toString('base64url')}`],
      ['no padding', () => valid.replace(/=+$/, '')],
      [
        'a flipped bit',
        () => {
          const bytes = Buffer.from(signature, 'base64');
          bytes[10] ^= 1;
          return `v1a,${bytes.toString('base64')}`;
        },
      ],
      ['a signature over another id', () => signV1a(privateKey, `${ID}x`)],
      ['a signature over another timestamp', () => signV1a(privateKey, ID, NOW - 1)],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(headers(build())), 'invalid_signature');
    });

    it('when the body changes', () => {
      expectAuthError(() => verify(headers(valid), Buffer.concat([BODY, Buffer.from(' ')])), 'invalid_signature');
    });

    it('for a v1a signature when the trigger holds only a whsec_ secret', () => {
      expectAuthError(() => verify(headers(valid), BODY, [hmacKey(newSecret())]), 'invalid_signature');
    });

    it('for a v1 HMAC keyed with the public key: a public key is never an HMAC secret', () => {
      const raw = Buffer.from(whpk(publicKey).slice('whpk_'.length), 'base64');
      const forged = createHmac('sha256', raw).update(`${ID}.${NOW}.`).update(BODY).digest('base64');
      expectAuthError(() => verify(headers(`v1,${forged}`)), 'invalid_signature');
      const forgedWithPrefix = createHmac('sha256', whpk(publicKey))
        .update(`${ID}.${NOW}.`)
        .update(BODY)
        .digest('base64');
      expectAuthError(() => verify(headers(`v1,${forgedWithPrefix}`)), 'invalid_signature');
    });

    it('considers only the first 3 v1a entries', () => {
      const junk = (n: number) =>
        Array.from({ length: n }, () => `v1a,${randomBytes(64).toString('base64')}`).join(' ');
      expect(verify(headers(`${junk(2)} ${valid}`)).deliveryId).toBe(ID);
      expectAuthError(() => verify(headers(`${junk(3)} ${valid}`)), 'invalid_signature');
    });

    it('tries only the first 11 keys', () => {
      const others = Array.from({ length: 11 }, () =>
        scheme.prepareKey(whpk(generateKeyPairSync('ed25519').publicKey)),
      );
      expect(verify(headers(valid), BODY, [...others.slice(0, 10), key]).deliveryId).toBe(ID);
      expectAuthError(() => verify(headers(valid), BODY, [...others, key]), 'invalid_signature');
    });

    it('bounds the work on a 1 MiB body with 11 keys and a header full of v1a entries', () => {
      const keys = Array.from({ length: 11 }, () => scheme.prepareKey(whpk(generateKeyPairSync('ed25519').publicKey)));
      // S below the group order (top nibble clear), so that the library cannot refuse them before hashing the body.
      const plausible = () => {
        const bytes = randomBytes(64);
        bytes[63] &= 0x0f;
        return `v1a,${bytes.toString('base64')}`;
      };
      const junk = Array.from({ length: 40 }, plausible).join(' ');
      const started = process.hrtime.bigint();
      expectAuthError(() => verify(headers(junk), Buffer.alloc(1 << 20, 0x61), keys), 'invalid_signature');
      expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(1000);
    });
  });

  it('checks the timestamp before any signature', () => {
    const late = NOW + TOLERANCE + 1;
    expectAuthError(() => verify(headers(signV1a(privateKey, ID, late), ID, late)), 'timestamp_out_of_tolerance');
  });

  describe('prepareKey', () => {
    const raw = publicKey.export({ type: 'spki', format: 'der' });

    it.each([
      ['31 bytes', `whpk_${raw.subarray(-31).toString('base64')}`],
      ['33 bytes', `whpk_${Buffer.concat([raw.subarray(-32), Buffer.alloc(1)]).toString('base64')}`],
      ['the SPKI DER encoding', `whpk_${raw.toString('base64')}`],
      ['base64url characters', `whpk_${'-_'.repeat(22)}`],
      ['missing padding', whpk(publicKey).replace(/=+$/, '')],
      ['the prefix only', 'whpk_'],
    ])('refuses a whpk_ value of %s', (_label, bad) => {
      expect(() => scheme.prepareKey(bad)).toThrow(/ed25519/);
      expect(() => scheme.validateSecret(bad)).toThrow(Error);
    });

    it('refuses a whsk_ private key, saying why, without echoing it', () => {
      const secretKey = `whsk_${privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64')}`;
      let caught: unknown;
      try {
        scheme.validateSecret(secretKey);
      } catch (error) {
        caught = error;
      }
      expect((caught as Error).message).toMatch(/private signing key.*whpk_/);
      expect((caught as Error).message).not.toContain(secretKey.slice(5));
    });
  });
});

describe('StandardWebhooksScheme settings', () => {
  it('generates whsec_ secrets, signs a timestamp and takes no options', () => {
    expect(scheme.generatesSecret).toBe(true);
    expect(scheme.usesTimestamp).toBe(true);
    expect(scheme.validateOptions(undefined)).toEqual({});
    expect(scheme.validateOptions({})).toEqual({});
    expect(() => scheme.validateOptions({ signatureHeader: 'x' })).toThrow(/takes no options/);
  });

  it('validates user-supplied secrets as prepareKey does', () => {
    expect(() => scheme.validateSecret(newSecret())).not.toThrow();
    expect(() => scheme.validateSecret(`whsec_${randomBytes(23).toString('base64')}`)).toThrow(Error);
  });
});
