import { createHash, createHmac, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { SlackScheme } from './slack.scheme.js';
import type { HeaderBag, PreparedKey } from './webhook-scheme.interface.js';
import { expectAuthError } from '../../../../test/support/expect-auth-error.js';

// Slack's documented example ("Verifying requests from Slack"): a slash command, form-encoded. The token
// field is xyzz0WbapA4vBCDEFasx0q6G as in Slack's page; the signature does not match any other body.
const VECTOR = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body:
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
    '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
    '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
    '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

const scheme = new SlackScheme();
const NOW = 1_700_000_000;
const TOLERANCE = 300;
const EVENT_ID = 'Ev08MFMKH6';
const BODY = Buffer.from(
  JSON.stringify({ type: 'event_callback', event_id: EVENT_ID, event: { type: 'message', text: 'ünïcode' } }),
  'utf8',
);

function newSecret(): string {
  return randomBytes(16).toString('hex');
}

/** Slack's documented algorithm, independent of the scheme: v0= + hex HMAC-SHA256 of `v0:${ts}:${body}`. */
function slackSign(secret: string, ts: number | string, body: Buffer | string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex')}`;
}

function headers(signature: string, ts: number | string = NOW): HeaderBag {
  return { 'x-slack-signature': signature, 'x-slack-request-timestamp': String(ts) };
}

describe('SlackScheme', () => {
  const secret = newSecret();
  const key = scheme.prepareKey(secret);
  const valid = slackSign(secret, NOW, BODY);
  const verify = (h: HeaderBag, rawBody = BODY, keys: readonly PreparedKey[] = [key], now = NOW) =>
    scheme.verify({ headers: h, rawBody }, keys, TOLERANCE, now);

  it('is named slack, needs the signing secret and signs a timestamp', () => {
    expect(scheme.name).toBe('slack');
    expect(scheme.generatesSecret).toBe(false);
    expect(scheme.usesTimestamp).toBe(true);
  });

  describe('published test vector', () => {
    const request = { headers: headers(VECTOR.signature, VECTOR.timestamp), rawBody: Buffer.from(VECTOR.body) };
    const vectorKey = scheme.prepareKey(VECTOR.secret);

    it('verifies, the id being the hash of the signed base string (a form body carries no event_id)', () => {
      const base = `v0:${VECTOR.timestamp}:${VECTOR.body}`;
      expect(scheme.verify(request, [vectorKey], TOLERANCE, VECTOR.timestamp)).toEqual({
        deliveryId: `sha256:${createHash('sha256').update(base).digest('hex')}`,
        timestamp: VECTOR.timestamp,
      });
    });

    it('is what the independent signer produces', () => {
      expect(slackSign(VECTOR.secret, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    });

    it('is refused outside the tolerance, either way', () => {
      for (const now of [VECTOR.timestamp + TOLERANCE + 1, VECTOR.timestamp - TOLERANCE - 1]) {
        expectAuthError(() => scheme.verify(request, [vectorKey], TOLERANCE, now), 'timestamp_out_of_tolerance');
      }
    });
  });

  describe('accepts', () => {
    it('an Events API request, deduplicated on event_id', () => {
      expect(verify(headers(valid))).toEqual({ deliveryId: EVENT_ID, timestamp: NOW });
    });

    it("a retry (re-signed, X-Slack-Retry-Num) with the first delivery's id", () => {
      const retry = { ...headers(slackSign(secret, NOW + 60, BODY), NOW + 60), 'x-slack-retry-num': '1' };
      expect(verify(retry).deliveryId).toBe(EVENT_ID);
    });

    it('a timestamp exactly at the edge of the tolerance, past and future', () => {
      for (const ts of [NOW - TOLERANCE, NOW + TOLERANCE]) {
        expect(verify(headers(slackSign(secret, ts, BODY), ts)).timestamp).toBe(ts);
      }
    });

    it('upper-case hex', () => {
      expect(verify(headers(`v0=${valid.slice(3).toUpperCase()}`)).deliveryId).toBe(EVENT_ID);
    });

    it('during rotation, a signature under either the new or the old secret', () => {
      const oldSecret = newSecret();
      const keys = [key, scheme.prepareKey(oldSecret)];
      expect(verify(headers(valid), BODY, keys).deliveryId).toBe(EVENT_ID);
      expect(verify(headers(slackSign(oldSecret, NOW, BODY)), BODY, keys).deliveryId).toBe(EVENT_ID);
    });
  });

  describe('deduplication id without event_id', () => {
    it('differs between two signed requests with the same body and different timestamps', () => {
      const body = Buffer.from('command=%2Fdeploy&text=prod');
      const first = verify(headers(slackSign(secret, NOW, body), NOW), body).deliveryId;
      const second = verify(headers(slackSign(secret, NOW + 1, body), NOW + 1), body).deliveryId;
      expect(first).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(second).not.toBe(first);
      expect(verify(headers(slackSign(secret, NOW, body), NOW), body).deliveryId).toBe(first);
    });

    it('ignores an event_id that is not a usable string', () => {
      const body = Buffer.from('{"type":"url_verification","event_id":{"x":1},"challenge":"abc"}');
      expect(verify(headers(slackSign(secret, NOW, body)), body).deliveryId).toMatch(/^sha256:/);
    });
  });

  describe('missing_signature', () => {
    it.each([
      ['X-Slack-Signature', { 'x-slack-request-timestamp': String(NOW) }],
      ['X-Slack-Request-Timestamp', { 'x-slack-signature': 'v0=00' }],
      ['both', {}],
      ['an empty X-Slack-Signature', { 'x-slack-signature': '', 'x-slack-request-timestamp': String(NOW) }],
    ])('without %s', (_label, h: HeaderBag) => {
      expectAuthError(() => verify(h), 'missing_signature');
    });
  });

  describe('timestamp_out_of_tolerance', () => {
    it.each([
      ['past', NOW - TOLERANCE - 1],
      ['future', NOW + TOLERANCE + 1],
      ['zero', 0],
    ])('beyond the tolerance (%s), though correctly signed', (_label, ts) => {
      expectAuthError(() => verify(headers(slackSign(secret, ts, BODY), ts)), 'timestamp_out_of_tolerance');
    });

    it.each([
      ['decimal', `${NOW}.5`],
      ['negative', `-${NOW}`],
      ['signed', `+${NOW}`],
      ['11 digits', `0${NOW}`],
      ['milliseconds', `${NOW}123`],
      ['letters', 'yesterday'],
      ['inner space', `${NOW} 1`],
    ])('for a timestamp that is not an integer of 1-10 digits (%s), though signed as such', (_label, ts) => {
      expectAuthError(() => verify(headers(slackSign(secret, ts, BODY), ts)), 'timestamp_out_of_tolerance');
    });

    it('for a repeated timestamp header', () => {
      expectAuthError(
        () => verify({ ...headers(valid), 'x-slack-request-timestamp': [String(NOW), String(NOW)] }),
        'timestamp_out_of_tolerance',
      );
    });
  });

  describe('invalid_signature', () => {
    const hex = valid.slice(3);

    it.each([
      ['another secret', () => slackSign(newSecret(), NOW, BODY)],
      ['no version', () => hex],
      ['version v1', () => `v1=${hex}`],
      ['an upper-case version', () => `V0=${hex}`],
      ['63 hex digits', () => `v0=${hex.slice(1)}`],
      ['65 hex digits', () => `v0=${hex}a`],
      ['non-hex', () => `v0=${hex.slice(1)}x`],
      ['base64', () => `v0=${Buffer.from(hex, 'hex').toString('base64')}`],
      ['a signature over another timestamp', () => slackSign(secret, NOW - 1, BODY)],
      [
        'a signature with ":" replaced by "."',
        () => `v0=${createHmac('sha256', secret).update(`v0.${NOW}.`).update(BODY).digest('hex')}`,
      ],
    ])('for %s', (_label, build) => {
      expectAuthError(() => verify(headers(build())), 'invalid_signature');
    });

    it('when the body changes', () => {
      expectAuthError(() => verify(headers(valid), Buffer.concat([BODY, Buffer.from(' ')])), 'invalid_signature');
    });

    it('when the timestamp header is spelled with a leading zero (the header text is what is signed)', () => {
      const padded = `0${NOW - 1_000_000_000}`;
      expectAuthError(
        () => verify(headers(slackSign(secret, NOW - 1_000_000_000, BODY), padded), BODY, [key], NOW - 1_000_000_000),
        'invalid_signature',
      );
    });

    it('when the signature header is repeated', () => {
      expectAuthError(() => verify({ ...headers(valid), 'x-slack-signature': [valid, valid] }), 'invalid_signature');
    });

    it('tries only the first 11 keys', () => {
      const others = Array.from({ length: 11 }, () => scheme.prepareKey(newSecret()));
      expect(verify(headers(valid), BODY, [...others.slice(0, 10), key]).deliveryId).toBe(EVENT_ID);
      expectAuthError(() => verify(headers(valid), BODY, [...others, key]), 'invalid_signature');
    });
  });

  it('never reveals the secret, the expected signature or the body in its errors', () => {
    for (const h of [headers(slackSign(newSecret(), NOW, BODY)), headers(valid, NOW + 9999), headers('v0=zz')]) {
      let caught: unknown;
      try {
        verify(h);
      } catch (error) {
        caught = error;
      }
      const text = `${String(caught)} ${JSON.stringify(caught)} ${(caught as Error).stack ?? ''}`;
      for (const needle of [secret, valid.slice(3), EVENT_ID, BODY.toString()]) {
        expect(text).not.toContain(needle);
      }
    }
  });

  it('validates secrets and takes no options', () => {
    expect(() => scheme.validateSecret(VECTOR.secret)).not.toThrow();
    expect(() => scheme.validateSecret('tooshort')).toThrow(Error);
    expect(scheme.validateOptions(undefined)).toEqual({});
    expect(() => scheme.validateOptions({ prefix: 'v0=' })).toThrow(Error);
  });
});

const jsonBody = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('SlackScheme.handshake', () => {
  it("gives the challenge of Slack's url_verification request", () => {
    const request = {
      token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    };
    expect(scheme.handshake(jsonBody(request), 'application/json')).toEqual({ challenge: request.challenge });
    expect(scheme.handshake(jsonBody(request), 'application/json; charset=utf-8')).toEqual({
      challenge: request.challenge,
    });
  });

  it.each([
    ['an event', 'application/json', jsonBody({ type: 'event_callback', challenge: 'x' })],
    ['a challenge that is not a string', 'application/json', jsonBody({ type: 'url_verification', challenge: 1 })],
    [
      'a challenge over 256 characters',
      'application/json',
      jsonBody({ type: 'url_verification', challenge: 'x'.repeat(257) }),
    ],
    ['a form body', 'application/x-www-form-urlencoded', Buffer.from('type=url_verification&challenge=x')],
    ['no content type', undefined, jsonBody({ type: 'url_verification', challenge: 'x' })],
    ['invalid JSON', 'application/json', Buffer.from('{"type": "url_verification"')],
    ['an array', 'application/json', jsonBody([{ type: 'url_verification', challenge: 'x' }])],
    ['a large body', 'application/json', jsonBody({ type: 'url_verification', challenge: 'x', pad: 'y'.repeat(2000) })],
  ])('gives no answer for %s', (_label, contentType, raw) => {
    expect(scheme.handshake(raw, contentType)).toBeUndefined();
  });
});
