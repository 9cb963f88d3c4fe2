import { BodyHmacProviderScheme } from './body-hmac-provider.scheme.js';

/** `X-GitHub-Delivery` is not signed: it stops GitHub's redeliveries, not a captured request resent. */
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
