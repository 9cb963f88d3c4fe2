import { BodyHmacProviderScheme } from './body-hmac-provider.scheme.js';

/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`, keyed with the app's client
 * secret (its UTF-8 bytes).
 *
 * Deduplication is on `X-Shopify-Webhook-Id`, which Shopify's retries keep; as with GitHub it is not
 * signed, so it stops retries, not a deliberate resend. `X-Shopify-Event-Id` is not used: one event
 * delivered under two topics to the same trigger shares it, and each delivery should start its own run.
 * Without `X-Shopify-Webhook-Id` the id is `sha256:<hex>` of the body.
 */
export class ShopifyScheme extends BodyHmacProviderScheme {
  constructor() {
    super('shopify', {
      signatureHeader: 'x-shopify-hmac-sha256',
      signatureLabel: 'X-Shopify-Hmac-Sha256',
      prefix: '',
      encoding: 'base64',
      idHeader: 'x-shopify-webhook-id',
      idLabel: 'X-Shopify-Webhook-Id',
    });
  }
}
