import { noOptions } from './scheme-options.parser.js';
import { checkSharedSecret, utf8Key } from './shared-secret.rules.js';
import type {
  PreparedKey,
  SchemeOptions,
  SignedRequest,
  SigningInput,
  VerifiedDelivery,
  WebhookScheme,
} from './webhook-scheme.interface.js';
import type { WebhookSchemeName } from './webhook-scheme.registry.js';

// The secret copied from the provider's UI is the HMAC key as typed (its UTF-8 bytes).
export abstract class ProviderSecretScheme implements WebhookScheme {
  readonly generatesSecret = false;
  abstract readonly name: WebhookSchemeName;
  abstract readonly usesTimestamp: boolean;

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

  abstract sign(input: SigningInput): Record<string, string> | null;

  abstract verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
    options?: SchemeOptions,
  ): VerifiedDelivery;
}
