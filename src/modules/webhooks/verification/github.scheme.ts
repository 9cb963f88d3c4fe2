import { assertServerArguments, checkSharedSecret, noOptions, utf8Key, verifyBodyHmac } from './scheme-helpers.js';
import type { PreparedKey, SchemeOptions, SignedRequest, VerifiedDelivery, WebhookScheme } from './webhook-scheme.js';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the webhook's secret
 * as typed into GitHub (its UTF-8 bytes). The legacy SHA-1 `X-Hub-Signature` is never accepted.
 *
 * GitHub signs no timestamp, so the replay rule is deduplication on `X-GitHub-Delivery` (a GUID that
 * GitHub's redeliveries keep). That header is not signed: it stops GitHub's retries and redeliveries
 * from starting a second run, not someone who captured a request and resends it under a new GUID.
 * Without the header the id is `sha256:<hex>` of the body.
 */
export class GitHubScheme implements WebhookScheme {
  readonly name = 'github';
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
      signatureHeader: 'x-hub-signature-256',
      signatureLabel: 'X-Hub-Signature-256',
      prefix: 'sha256=',
      encoding: 'hex',
      idHeader: 'x-github-delivery',
      idLabel: 'X-GitHub-Delivery',
    });
  }
}
