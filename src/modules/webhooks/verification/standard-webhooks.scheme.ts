import { createPublicKey, KeyObject, verify as verifySignature } from 'node:crypto';

import { AuthenticationError } from '../../../common/domain.error.js';
import { isDeliveryId } from './delivery-id.rules.js';
import { anyKeyMatches, hmacSha256 } from './hmac.compare.js';
import { noOptions } from './scheme-options.parser.js';
import { headerValues } from './signature-header.reader.js';
import { decodeStrictBase64 } from './signature.encoding.js';
import { assertServerArguments, MAX_KEYS, MAX_SIGNATURES } from './signature.limits.js';
import { checkTimestamp } from './timestamp.tolerance.js';
import type {
  HeaderBag,
  PreparedKey,
  SchemeOptions,
  SignedRequest,
  SigningInput,
  VerifiedDelivery,
  WebhookScheme,
} from './webhook-scheme.interface.js';

// A trigger may hold a `whsec_` and a `whpk_` key to rotate between them; only 3 `v1a` entries count (ed25519 cost).
export class StandardWebhooksScheme implements WebhookScheme {
  readonly name = 'standard-webhooks';
  readonly generatesSecret = true;
  readonly usesTimestamp = true;

  validateOptions(raw: unknown): SchemeOptions {
    return noOptions(this.name, raw);
  }

  validateSecret(secret: string): void {
    this.prepareKey(secret);
  }

  prepareKey(secret: string): PreparedKey {
    if (typeof secret === 'string' && secret.startsWith(PRIVATE_KEY_PREFIX)) {
      throw new Error(
        `A ${PRIVATE_KEY_PREFIX} value is the sender's private signing key: give its ${PUBLIC_KEY_PREFIX} public key instead`,
      );
    }
    if (typeof secret === 'string' && secret.startsWith(PUBLIC_KEY_PREFIX)) {
      return publicKeyOf(secret.slice(PUBLIC_KEY_PREFIX.length));
    }
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const key = encoded.length <= MAX_SECRET_CHARS ? decodeStrictBase64(encoded) : null;
    if (key === null || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
      throw new Error(
        `A standard-webhooks secret must be "${SECRET_PREFIX}" followed by standard base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, or "${PUBLIC_KEY_PREFIX}" followed by standard base64 of a 32-byte ed25519 public key`,
      );
    }
    return key;
  }

  /** A `whpk_` trigger holds only the sender's public key: the server cannot sign for it. */
  sign({ rawBody, secret, deliveryId, nowSeconds }: SigningInput): Record<string, string> | null {
    const key = this.prepareKey(secret);
    if (!Buffer.isBuffer(key)) return null;
    return {
      'webhook-id': deliveryId,
      'webhook-timestamp': String(nowSeconds),
      'webhook-signature': signStandardWebhook(key, deliveryId, nowSeconds, rawBody),
    };
  }

  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery {
    assertServerArguments(request, toleranceSeconds, nowSeconds);

    const id = requireHeader(request.headers, 'id');
    const timestampText = requireHeader(request.headers, 'timestamp');
    const signatures = requireHeader(request.headers, 'signature');

    // A repeated timestamp is not one integer: '' makes checkTimestamp refuse it.
    const timestampValue = Array.isArray(timestampText) ? '' : timestampText;
    const timestamp = checkTimestamp(timestampValue, 'webhook-timestamp', toleranceSeconds, nowSeconds);

    if (Array.isArray(id) || !isDeliveryId(id)) {
      throw new AuthenticationError(
        'invalid_signature',
        'webhook-id must be one value of 1 to 256 visible ASCII characters',
      );
    }
    const signatureHeader = Array.isArray(signatures) ? signatures.join(' ') : signatures;
    if (signatureHeader.length > MAX_SIGNATURE_HEADER_CHARS) {
      throw new AuthenticationError(
        'invalid_signature',
        `webhook-signature is longer than ${MAX_SIGNATURE_HEADER_CHARS} characters`,
      );
    }

    const { symmetric, asymmetric } = parseSignatures(signatureHeader);
    const prefix = `${id}.${timestampValue}.`;
    if (
      anyKeyMatches(keys, symmetric, (key) => hmacSha256(key, prefix, request.rawBody)) ||
      anyEd25519Matches(keys, asymmetric, prefix, request.rawBody)
    ) {
      return { deliveryId: id, timestamp };
    }
    throw new AuthenticationError('invalid_signature', 'No signature in webhook-signature matches');
  }
}

export function signStandardWebhook(key: Buffer, id: string, timestamp: number, rawBody: Buffer): string {
  return `${SYMMETRIC_VERSION},${hmacSha256(key, `${id}.${timestamp}.`, rawBody).toString('base64')}`;
}

const SECRET_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';
const PRIVATE_KEY_PREFIX = 'whsk_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const MAX_SECRET_CHARS = Math.ceil(MAX_KEY_BYTES / 3) * 4;
const ED25519_PUBLIC_KEY_BYTES = 32;
const SYMMETRIC_VERSION = 'v1';
const ASYMMETRIC_VERSION = 'v1a';
const HMAC_BYTES = 32;
const ED25519_SIGNATURE_BYTES = 64;
const MAX_SIGNATURE_HEADER_CHARS = 4096;
const MAX_ASYMMETRIC_SIGNATURES = 3;

function publicKeyOf(encoded: string): KeyObject {
  const raw = decodeStrictBase64(encoded);
  if (raw === null || raw.length !== ED25519_PUBLIC_KEY_BYTES) {
    throw new Error(
      `A standard-webhooks public key must be "${PUBLIC_KEY_PREFIX}" followed by standard base64 of the raw ${ED25519_PUBLIC_KEY_BYTES}-byte ed25519 key`,
    );
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function requireHeader(headers: HeaderBag, suffix: 'id' | 'timestamp' | 'signature'): string | string[] {
  const value = headerValues(headers, `webhook-${suffix}`) ?? headerValues(headers, `svix-${suffix}`);
  if (value === undefined) {
    throw new AuthenticationError('missing_signature', `Missing webhook-${suffix} (or svix-${suffix}) header`);
  }
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function parseSignatures(header: string): { symmetric: Buffer[]; asymmetric: Buffer[] } {
  const symmetric: Buffer[] = [];
  const asymmetric: Buffer[] = [];
  let consideredSymmetric = 0;
  let consideredAsymmetric = 0;
  for (const rawEntry of header.split(' ')) {
    const entry = rawEntry.endsWith(',') ? rawEntry.slice(0, -1) : rawEntry;
    const comma = entry.indexOf(',');
    const version = comma === -1 ? '' : entry.slice(0, comma);
    if (version === SYMMETRIC_VERSION && consideredSymmetric < MAX_SIGNATURES) {
      consideredSymmetric++;
      const decoded = decodeStrictBase64(entry.slice(comma + 1));
      if (decoded !== null && decoded.length === HMAC_BYTES) symmetric.push(decoded);
    } else if (version === ASYMMETRIC_VERSION && consideredAsymmetric < MAX_ASYMMETRIC_SIGNATURES) {
      consideredAsymmetric++;
      const decoded = decodeStrictBase64(entry.slice(comma + 1));
      if (decoded !== null && decoded.length === ED25519_SIGNATURE_BYTES) asymmetric.push(decoded);
    }
    if (consideredSymmetric === MAX_SIGNATURES && consideredAsymmetric === MAX_ASYMMETRIC_SIGNATURES) break;
  }
  return { symmetric, asymmetric };
}

function anyEd25519Matches(
  keys: readonly PreparedKey[],
  signatures: readonly Buffer[],
  prefix: string,
  rawBody: Buffer,
): boolean {
  if (signatures.length === 0) return false;
  const publicKeys = keys
    .slice(0, MAX_KEYS)
    .filter((key): key is KeyObject => key instanceof KeyObject && key.asymmetricKeyType === 'ed25519');
  if (publicKeys.length === 0) return false;
  const content = Buffer.concat([Buffer.from(prefix, 'utf8'), rawBody]);
  return publicKeys.some((key) => signatures.some((signature) => verifySignature(null, content, key, signature)));
}
