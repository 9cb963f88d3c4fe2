import { randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { AuthenticationError } from '../../../common/domain.error.js';
import { generateWebhookSecret } from '../../secrets/secret.generator.js';
import type { HeaderBag } from './webhook-scheme.interface.js';
import {
  DEFAULT_WEBHOOK_SCHEME,
  WEBHOOK_SCHEME_NAMES,
  WEBHOOK_SCHEME_REGISTRY,
  webhookScheme,
} from './webhook-scheme.registry.js';

const NOW = 1_700_000_000;

/** Settings each scheme can verify with, for the tests that go over all of them. */
const OPTIONS: Record<string, unknown> = {
  'hmac-sha256': { signatureHeader: 'x-signature', idHeader: 'x-delivery' },
  token: { tokenHeader: 'x-token', idHeader: 'x-delivery' },
};

describe('the scheme registry', () => {
  it('registers every name, in WEBHOOK_SCHEME_NAMES order, under its own name', () => {
    expect([...WEBHOOK_SCHEME_REGISTRY.keys()]).toEqual([...WEBHOOK_SCHEME_NAMES]);
    for (const [name, scheme] of WEBHOOK_SCHEME_REGISTRY) {
      expect(scheme.name).toBe(name);
      expect(webhookScheme(name)).toBe(scheme);
    }
    expect(WEBHOOK_SCHEME_NAMES).toEqual([
      'standard-webhooks',
      'github',
      'stripe',
      'slack',
      'shopify',
      'hmac-sha256',
      'token',
    ]);
  });

  it('defaults to standard-webhooks and knows no other name', () => {
    expect(DEFAULT_WEBHOOK_SCHEME).toBe('standard-webhooks');
    expect(webhookScheme('svix')).toBeUndefined();
    expect(webhookScheme('__proto__')).toBeUndefined();
    expect(webhookScheme('GitHub')).toBeUndefined();
  });

  it('generates secrets for standard-webhooks, hmac-sha256 and token only; provider schemes need the user’s', () => {
    const generating = WEBHOOK_SCHEME_NAMES.filter((name) => webhookScheme(name)!.generatesSecret);
    expect(generating).toEqual(['standard-webhooks', 'hmac-sha256', 'token']);
  });

  it('marks which schemes carry a signed timestamp', () => {
    const timestamped = WEBHOOK_SCHEME_NAMES.filter((name) => webhookScheme(name)!.usesTimestamp);
    expect(timestamped).toEqual(['standard-webhooks', 'stripe', 'slack']);
  });

  it.each(WEBHOOK_SCHEME_NAMES.filter((name) => webhookScheme(name)!.generatesSecret))(
    '%s accepts the secrets the service generates',
    (name) => {
      const scheme = webhookScheme(name)!;
      for (let i = 0; i < 50; i++) {
        const secret = generateWebhookSecret();
        expect(() => scheme.validateSecret(secret)).not.toThrow();
        expect(() => scheme.prepareKey(secret)).not.toThrow();
      }
    },
  );

  it.each(WEBHOOK_SCHEME_NAMES)('%s validates its options, refusing what belongs to no scheme', (name) => {
    const scheme = webhookScheme(name)!;
    expect(() => scheme.validateOptions(OPTIONS[name])).not.toThrow();
    expect(() => scheme.validateOptions({ ...(OPTIONS[name] as object), nonsense: true })).toThrow(/Unknown option/);
    expect(() => scheme.validateOptions(42)).toThrow(Error);
  });

  it.each(WEBHOOK_SCHEME_NAMES)('%s refuses an empty or huge secret with a plain Error', (name) => {
    const scheme = webhookScheme(name)!;
    for (const bad of ['', 'x'.repeat(100_000)]) {
      expect(() => scheme.validateSecret(bad)).toThrow(Error);
      expect(() => scheme.prepareKey(bad)).toThrow(Error);
    }
  });
});

describe('every scheme, given hostile input', () => {
  const header = (): string | string[] | undefined => {
    const pick = Math.floor(Math.random() * 12);
    const pieces = [
      '',
      'v1,',
      'v1a,',
      'v0=',
      'sha256=',
      't=',
      ',v1=',
      ' ',
      ',',
      '=',
      String(NOW),
      randomBytes(32).toString('hex'),
      randomBytes(32).toString('base64'),
      randomBytes(64).toString('base64'),
      '\u0000',
      'é',
      '١',
    ];
    if (pick === 0) return undefined;
    if (pick === 1) return [pieces[Math.floor(Math.random() * pieces.length)], String(NOW)];
    if (pick === 2) return 'x'.repeat(5000);
    return Array.from(
      { length: 1 + Math.floor(Math.random() * 6) },
      () => pieces[Math.floor(Math.random() * pieces.length)],
    ).join('');
  };
  const names = [
    'webhook-id',
    'webhook-timestamp',
    'webhook-signature',
    'svix-signature',
    'x-hub-signature-256',
    'x-github-delivery',
    'stripe-signature',
    'x-slack-signature',
    'x-slack-request-timestamp',
    'x-shopify-hmac-sha256',
    'x-shopify-webhook-id',
    'x-signature',
    'x-token',
    'x-delivery',
  ];

  it.each(WEBHOOK_SCHEME_NAMES)('%s answers only with AuthenticationError codes of the contract', (name) => {
    const scheme = webhookScheme(name)!;
    const options = scheme.validateOptions(OPTIONS[name]);
    const keys = [scheme.prepareKey(generateWebhookSecret()), scheme.prepareKey(generateWebhookSecret())];
    const codes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const headers: HeaderBag = {};
      for (const headerName of names) headers[headerName] = header();
      const rawBody = randomBytes(Math.floor(Math.random() * 64));
      try {
        scheme.verify({ headers, rawBody }, keys, 300, NOW, options);
        throw new Error('a random request verified');
      } catch (error) {
        expect(error).toBeInstanceOf(AuthenticationError);
        codes.add((error as AuthenticationError).code);
      }
    }
    for (const code of codes) {
      expect(['missing_signature', 'invalid_signature', 'timestamp_out_of_tolerance']).toContain(code);
    }
  });
});

describe('handshakes', () => {
  const challenge = Buffer.from(JSON.stringify({ type: 'url_verification', challenge: 'abc' }));

  it.each(WEBHOOK_SCHEME_NAMES)("%s answers Slack's url_verification only if it is the slack scheme", (name) => {
    const answer = webhookScheme(name)!.handshake?.(challenge, 'application/json');
    expect(answer).toEqual(name === 'slack' ? { challenge: 'abc' } : undefined);
  });
});
