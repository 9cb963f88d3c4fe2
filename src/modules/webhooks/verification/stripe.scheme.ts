import { AuthenticationError } from '../../../common/domain.error.js';
import { contentHashId, jsonStringField } from './delivery-id.rules.js';
import { anyKeyMatches, hmacSha256 } from './hmac.compare.js';
import { checkSharedSecret } from './shared-secret.rules.js';
import { requireHeader } from './signature-header.reader.js';
import { decodeHex } from './signature.encoding.js';
import { assertServerArguments, HMAC_SHA256_BYTES, MAX_SIGNATURES } from './signature.limits.js';
import { checkTimestamp } from './timestamp.tolerance.js';
import { ProviderSecretScheme } from './provider-secret.scheme.js';
import { utf8Key } from './shared-secret.rules.js';
import type { PreparedKey, SignedRequest, SigningInput, VerifiedDelivery } from './webhook-scheme.interface.js';

// The key is the whole `whsec_` string; a future `t` is refused too (Stripe's library refuses only old ones).
export class StripeScheme extends ProviderSecretScheme {
  readonly name = 'stripe';
  readonly usesTimestamp = true;

  override validateSecret(secret: string): void {
    checkSharedSecret(this.name, secret, { asciiOnly: true });
    if (!SECRET.test(secret)) {
      // The usual slip is pasting an API key (sk_..., rk_...) instead of the endpoint's signing secret.
      throw new Error("A stripe secret is the endpoint's signing secret, which starts with whsec_ and has no spaces");
    }
  }

  sign({ rawBody, secret, nowSeconds }: SigningInput): Record<string, string> {
    const signature = hmacSha256(utf8Key(secret), `${nowSeconds}.`, rawBody).toString('hex');
    return { 'stripe-signature': `t=${nowSeconds},v1=${signature}` };
  }

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);
    const header = requireHeader(request.headers, 'stripe-signature', 'Stripe-Signature');

    const timestamps: string[] = [];
    const candidates: Buffer[] = [];
    let considered = 0;
    for (const item of header.split(',')) {
      const equals = item.indexOf('=');
      const name = equals === -1 ? '' : item.slice(0, equals);
      if (name === 't') {
        timestamps.push(item.slice(equals + 1));
      } else if (name === 'v1' && considered < MAX_SIGNATURES) {
        considered++;
        const decoded = decodeHex(item.slice(equals + 1), HMAC_SHA256_BYTES);
        if (decoded !== null) candidates.push(decoded);
      }
    }
    if (timestamps.length !== 1) {
      throw new AuthenticationError('invalid_signature', 'Stripe-Signature must hold exactly one t= timestamp');
    }
    const timestampText = timestamps[0];
    const timestamp = checkTimestamp(timestampText, 'The Stripe-Signature timestamp', toleranceSeconds, nowSeconds);

    if (candidates.length === 0) {
      throw new AuthenticationError('invalid_signature', 'Stripe-Signature holds no v1 signature of 64 hex digits');
    }
    if (!anyKeyMatches(keys, candidates, (key) => hmacSha256(key, `${timestampText}.`, request.rawBody))) {
      throw new AuthenticationError('invalid_signature', 'No v1 signature in Stripe-Signature matches');
    }
    return { deliveryId: jsonStringField(request.rawBody, 'id') ?? contentHashId(request.rawBody), timestamp };
  }
}

const SECRET = /^whsec_[\x21-\x7e]+$/;
