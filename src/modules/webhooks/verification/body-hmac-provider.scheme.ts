import { ProviderSecretScheme } from './provider-secret.scheme.js';
import { type BodyHmacRule, signBodyHmac, verifyBodyHmac } from './body-hmac.verifier.js';
import { assertServerArguments } from './signature.limits.js';
import type { PreparedKey, SignedRequest, SigningInput, VerifiedDelivery } from './webhook-scheme.interface.js';
import type { WebhookSchemeName } from './webhook-scheme.registry.js';

export class BodyHmacProviderScheme extends ProviderSecretScheme {
  readonly usesTimestamp = false;

  constructor(
    readonly name: WebhookSchemeName,
    private readonly rule: BodyHmacRule,
  ) {
    super();
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

  sign(input: SigningInput): Record<string, string> {
    return signBodyHmac(input, this.rule);
  }
}
