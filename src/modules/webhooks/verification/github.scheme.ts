import { BodyHmacProviderScheme } from './body-hmac-provider.scheme.js';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, keyed with the webhook's secret
 * as typed into GitHub (its UTF-8 bytes). The legacy SHA-1 `X-Hub-Signature` is never accepted.
 *
 * Deduplication is on `X-GitHub-Delivery` (a GUID that GitHub's redeliveries keep). That header is not
 * signed: it stops GitHub's retries and redeliveries from starting a second run, not someone who
 * captured a request and resends it under a new GUID. Without the header the id is `sha256:<hex>` of the body.
 */
export class GitHubScheme extends BodyHmacProviderScheme {
  constructor() {
    super('github', {
      signatureHeader: 'x-hub-signature-256',
      signatureLabel: 'X-Hub-Signature-256',
      prefix: 'sha256=',
      encoding: 'hex',
      idHeader: 'x-github-delivery',
      idLabel: 'X-GitHub-Delivery',
    });
  }
}
