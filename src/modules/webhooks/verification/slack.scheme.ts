import { AuthenticationError } from '../../../common/domain.error.js';
import {
  anyKeyMatches,
  assertServerArguments,
  checkTimestamp,
  contentHashId,
  decodeHex,
  HMAC_SHA256_BYTES,
  hmacSha256,
  jsonStringField,
  requireHeader,
  requireTimestampHeader,
} from './scheme-helpers.js';
import { ProviderSecretScheme } from './provider-secret.scheme.js';
import type { PreparedKey, SignedRequest, VerifiedDelivery } from './webhook-scheme.js';

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:" + X-Slack-Request-Timestamp + ":" + raw body>`,
 * keyed with the app's signing secret (not the deprecated verification token). The raw bytes are what
 * is signed whatever the body is: JSON for the Events API, form fields for slash commands and
 * interactivity.
 *
 * Replay rule: the timestamp must be within the tolerance either way (Slack suggests 5 minutes).
 * Deduplication is on the Events API's `event_id` (read from a JSON body once the signature has
 * verified), which Slack's retries (`X-Slack-Retry-Num`) keep even though they are re-signed; other
 * requests carry no id, so theirs is `sha256:<hex>` of the signed `v0:<ts>:<body>`: a resend of the
 * same signed request within the tolerance is deduplicated, and distinct commands differ by their
 * `trigger_id` or timestamp.
 */
export class SlackScheme extends ProviderSecretScheme {
  readonly name = 'slack';
  readonly usesTimestamp = true;

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);
    const signature = requireHeader(request.headers, 'x-slack-signature', 'X-Slack-Signature');
    const timestampText = requireTimestampHeader(
      request.headers,
      'x-slack-request-timestamp',
      'X-Slack-Request-Timestamp',
    );
    const timestamp = checkTimestamp(timestampText, 'X-Slack-Request-Timestamp', toleranceSeconds, nowSeconds);

    const candidate = signature.startsWith(VERSION_PREFIX)
      ? decodeHex(signature.slice(VERSION_PREFIX.length), HMAC_SHA256_BYTES)
      : null;
    if (candidate === null) {
      throw new AuthenticationError('invalid_signature', 'X-Slack-Signature must be v0= followed by 64 hex digits');
    }
    const base = `v0:${timestampText}:`;
    if (!anyKeyMatches(keys, [candidate], (key) => hmacSha256(key, base, request.rawBody))) {
      throw new AuthenticationError('invalid_signature', 'X-Slack-Signature does not match');
    }
    return {
      deliveryId: jsonStringField(request.rawBody, 'event_id') ?? contentHashId(base, request.rawBody),
      timestamp,
    };
  }
}

const VERSION_PREFIX = 'v0=';
