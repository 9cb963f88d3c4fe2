import { generateKeyPairSync } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { WEBHOOK_SCHEME_NAMES, webhookScheme } from './webhook-scheme.registry.js';

const NOW = 1_700_000_000;
const BODY = Buffer.from('{"hello":"world","n":1}');

const SECRETS: Record<string, string> = {
  'standard-webhooks': `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  github: 'a github secret of some length',
  stripe: 'whsec_stripeSecret123',
  slack: 'slack-signing-secret-0123',
  shopify: 'shopify secret 0123456',
  'hmac-sha256': 'hmac secret 0123456789',
  token: 'token-value-0123456789',
};

const OPTIONS: Record<string, unknown> = {
  'hmac-sha256': { signatureHeader: 'x-signature', encoding: 'base64', prefix: 'sha256=', idHeader: 'x-delivery' },
  token: { tokenHeader: 'authorization', prefix: 'Bearer ', idHeader: 'x-delivery' },
};

describe('signing by the server (test deliveries)', () => {
  it.each(WEBHOOK_SCHEME_NAMES)('%s: what it signs verifies with the same secret, and not with another', (name) => {
    const scheme = webhookScheme(name)!;
    const options = scheme.validateOptions(OPTIONS[name] ?? {});
    const secret = SECRETS[name];
    const headers = scheme.sign({ rawBody: BODY, secret, deliveryId: 'test_0001', nowSeconds: NOW, options });
    expect(headers).not.toBeNull();
    const verified = scheme.verify(
      { headers: headers!, rawBody: BODY },
      [scheme.prepareKey(secret)],
      300,
      NOW,
      options,
    );
    expect(verified.deliveryId).toEqual(expect.any(String));
    const other = name === 'standard-webhooks' ? `whsec_${Buffer.alloc(32, 9).toString('base64')}` : `${secret}x`;
    expect(() =>
      scheme.verify({ headers: headers!, rawBody: BODY }, [scheme.prepareKey(other)], 300, NOW, options),
    ).toThrow();
  });

  it('standard-webhooks: a trigger holding only a whpk_ public key cannot be signed for', () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64');
    const scheme = webhookScheme('standard-webhooks')!;
    expect(scheme.sign({ rawBody: BODY, secret: `whpk_${raw}`, deliveryId: 'x', nowSeconds: NOW })).toBeNull();
  });

  it('standard-webhooks and providers with delivery ids: the id sent is the one deduplicated on', () => {
    for (const name of ['standard-webhooks', 'github', 'shopify', 'hmac-sha256', 'token'] as const) {
      const scheme = webhookScheme(name)!;
      const options = scheme.validateOptions(OPTIONS[name] ?? {});
      const headers = scheme.sign({
        rawBody: BODY,
        secret: SECRETS[name],
        deliveryId: 'test_0002',
        nowSeconds: NOW,
        options,
      })!;
      const verified = scheme.verify({ headers, rawBody: BODY }, [scheme.prepareKey(SECRETS[name])], 300, NOW, options);
      expect(verified.deliveryId).toBe('test_0002');
    }
  });
});
