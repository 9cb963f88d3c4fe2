import { assertServerArguments, checkSharedSecret, noOptions, utf8Key, verifyBodyHmac } from './scheme-helpers.js';
import type { PreparedKey, SchemeOptions, SignedRequest, VerifiedDelivery, WebhookScheme } from './webhook-scheme.js';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`, keyed with the app's client
 * secret (its UTF-8 bytes).
 *
 * Shopify signs no timestamp, so the replay rule is deduplication on `X-Shopify-Webhook-Id`, which
 * Shopify's retries keep; as with GitHub it is not signed, so it stops retries, not a deliberate resend.
 * `X-Shopify-Event-Id` is not used: one event delivered under two topics to the same trigger shares it,
 * and each delivery should start its own run. Without `X-Shopify-Webhook-Id` the id is `sha256:<hex>` of the body.
 */
export class ShopifyScheme implements WebhookScheme {
  readonly name = 'shopify';
  readonly generatesSecret = false;
  readonly usesTimestamp = false;

  validateOptions(raw: unknown): SchemeOptions {
    return noOptions(this.name, raw);
  }

  validateSecret(secret: string): void {
    checkSharedSecret(this.name, secret);
  }

  prepareKey(secret: string): PreparedKey {
    this.validateSecret(secret);
    return utf8Key(secret);
  }

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);
    return verifyBodyHmac(request, keys, {
      signatureHeader: 'x-shopify-hmac-sha256',
      signatureLabel: 'X-Shopify-Hmac-Sha256',
      prefix: '',
      encoding: 'base64',
      idHeader: 'x-shopify-webhook-id',
      idLabel: 'X-Shopify-Webhook-Id',
    });
  }
}
