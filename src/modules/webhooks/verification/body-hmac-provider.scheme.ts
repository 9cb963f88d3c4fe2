import {
  assertServerArguments,
  checkSharedSecret,
  noOptions,
  utf8Key,
  verifyBodyHmac,
  type BodyHmacRule,
} from './scheme-helpers.js';
import type {
  PreparedKey,
  SchemeOptions,
  SignedRequest,
  VerifiedDelivery,
  WebhookScheme,
  WebhookSchemeName,
} from './webhook-scheme.js';

/**
 * A provider that signs nothing but the body, with the secret typed into its UI as the HMAC key, in a
 * header of its own (GitHub, Shopify). Such providers sign no timestamp, so the replay rule is
 * deduplication on their delivery id header.
 */
export class BodyHmacProviderScheme implements WebhookScheme {
  readonly generatesSecret = false;
  readonly usesTimestamp = false;

  constructor(
    readonly name: WebhookSchemeName,
    private readonly rule: BodyHmacRule,
  ) {}

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
    return verifyBodyHmac(request, keys, this.rule);
  }
}
