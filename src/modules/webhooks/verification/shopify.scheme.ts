import { BodyHmacProviderScheme } from './body-hmac-provider.scheme.js';

/** Not `X-Shopify-Event-Id`: one event delivered under two topics shares it, and each delivery starts a run. */
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
