import { AuthenticationError } from '../../../common/domain.error.js';
import { contentHashId, jsonStringField } from './delivery-id.rules.js';
import { anyKeyMatches, hmacSha256 } from './hmac.compare.js';
import { requireHeader, requireTimestampHeader } from './signature-header.reader.js';
import { decodeHex } from './signature.encoding.js';
import { assertServerArguments, HMAC_SHA256_BYTES } from './signature.limits.js';
import { checkTimestamp } from './timestamp.tolerance.js';
import { ProviderSecretScheme } from './provider-secret.scheme.js';
import { utf8Key } from './shared-secret.rules.js';
import type {
  HandshakeAnswer,
  PreparedKey,
  SignedRequest,
  SigningInput,
  VerifiedDelivery,
} from './webhook-scheme.interface.js';

// Deduplication on `event_id`, which Slack's re-signed retries keep; commands use the hash of what was signed.
export class SlackScheme extends ProviderSecretScheme {
  readonly name = 'slack';
  readonly usesTimestamp = true;

  sign({ rawBody, secret, nowSeconds }: SigningInput): Record<string, string> {
    const signature = hmacSha256(utf8Key(secret), `v0:${nowSeconds}:`, rawBody).toString('hex');
    return { 'x-slack-request-timestamp': String(nowSeconds), 'x-slack-signature': `${VERSION_PREFIX}${signature}` };
  }

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

  handshake(rawBody: Buffer, contentType: string | undefined): HandshakeAnswer | undefined {
    const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
    // Challenges are small; anything larger is an event, so not even parsed here.
    if (mediaType !== 'application/json' || rawBody.length > MAX_CHALLENGE_BODY_BYTES) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const { type, challenge } = parsed as Record<string, unknown>;
    return type === 'url_verification' && typeof challenge === 'string' && challenge.length <= MAX_CHALLENGE_CHARS
      ? { challenge }
      : undefined;
  }
}

const VERSION_PREFIX = 'v0=';
const MAX_CHALLENGE_BODY_BYTES = 1024;
const MAX_CHALLENGE_CHARS = 256;
