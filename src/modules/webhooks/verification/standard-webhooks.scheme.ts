import { createHmac, timingSafeEqual } from 'node:crypto';

import { AuthenticationError } from '../../../common/errors.js';
import type { HeaderBag, SignedRequest, VerifiedDelivery, WebhookScheme } from './webhook-scheme.js';

/**
 * Standard Webhooks (https://www.standardwebhooks.com), which is also what Svix senders speak.
 *
 * Choices beyond the spec, each to keep the parsing unambiguous or the work an unauthenticated caller
 * can cause bounded:
 * - `webhook-*` headers win over their `svix-*` aliases, header by header; an empty value counts as absent.
 * - A header given several times (an array in the header bag): signature values are joined with spaces,
 *   as if sent as one list; a repeated `webhook-id` is ambiguous for deduplication, so invalid_signature;
 *   a repeated `webhook-timestamp` is not an integer, so timestamp_out_of_tolerance. Node itself joins
 *   repeated headers with ", ", which gives the same answers (a trailing "," on an entry is dropped).
 * - `webhook-id` must be 1-256 visible ASCII characters: it is stored and logged for deduplication.
 * - The signature header is capped at 4 KiB and only its first 10 `v1` entries are considered; only
 *   the first 11 keys are tried (one HMAC of the body each), so a request costs at most 11 HMACs.
 * - Timestamps are 1-10 digits, nothing else; the signed content uses the header text verbatim.
 * - Signatures must be canonical, padded standard base64 of exactly 32 bytes; anything else is skipped.
 */
export class StandardWebhooksScheme implements WebhookScheme {
  readonly name = 'standard-webhooks';

  prepareKey(secret: string): Buffer {
    const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
    const key = encoded.length <= MAX_SECRET_CHARS ? decodeStrictBase64(encoded) : null;
    if (key === null || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
      throw new Error(
        `A standard-webhooks secret must be "${SECRET_PREFIX}" followed by standard base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`,
      );
    }
    return key;
  }

  verify(
    request: SignedRequest,
    keys: readonly Buffer[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery {
    // Server-side arguments: a NaN here would make every timestamp pass, so fail loudly instead of open.
    if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0 || !Number.isFinite(nowSeconds)) {
      throw new RangeError('toleranceSeconds and nowSeconds must be finite, toleranceSeconds >= 0');
    }
    if (!Buffer.isBuffer(request.rawBody)) {
      throw new TypeError('The raw request body is required to verify a signature');
    }

    const id = requireHeader(request.headers, 'id');
    const timestampText = requireHeader(request.headers, 'timestamp');
    const signatures = requireHeader(request.headers, 'signature');

    if (Array.isArray(timestampText) || !TIMESTAMP.test(timestampText)) {
      throw new AuthenticationError(
        'timestamp_out_of_tolerance',
        'webhook-timestamp must be an integer number of seconds',
      );
    }
    const timestamp = Number(timestampText);
    if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
      throw new AuthenticationError(
        'timestamp_out_of_tolerance',
        `webhook-timestamp is more than ${toleranceSeconds} seconds away from the server's clock`,
      );
    }

    if (Array.isArray(id) || !DELIVERY_ID.test(id)) {
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

    const candidates = parseSignatures(signatureHeader);
    if (candidates.length > 0) {
      for (const key of keys.slice(0, MAX_KEYS)) {
        const expected = hmac(key, id, timestampText, request.rawBody);
        // Both sides are always 32 bytes, so timingSafeEqual never throws and the loop never exits on a length.
        if (candidates.some((candidate) => timingSafeEqual(candidate, expected))) {
          return { deliveryId: id, timestamp };
        }
      }
    }
    throw new AuthenticationError('invalid_signature', 'No signature in webhook-signature matches');
  }
}

/** `v1,<base64>` over `${id}.${timestamp}.` + the raw body, for examples and benchmarks. */
export function signStandardWebhook(key: Buffer, id: string, timestamp: number, rawBody: Buffer): string {
  return `${SIGNATURE_VERSION},${hmac(key, id, String(timestamp), rawBody).toString('base64')}`;
}

const SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const MAX_SECRET_CHARS = Math.ceil(MAX_KEY_BYTES / 3) * 4;
const SIGNATURE_VERSION = 'v1';
const SIGNATURE_BYTES = 32;
const MAX_SIGNATURE_HEADER_CHARS = 4096;
const MAX_SIGNATURES = 10;
// The current secret and up to 10 previous ones in their grace period (MAX_PREVIOUS_SECRETS).
const MAX_KEYS = 11;
const DELIVERY_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,10}$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function requireHeader(headers: HeaderBag, suffix: 'id' | 'timestamp' | 'signature'): string | string[] {
  const value = present(headers[`webhook-${suffix}`]) ?? present(headers[`svix-${suffix}`]);
  if (value === undefined) {
    throw new AuthenticationError('missing_signature', `Missing webhook-${suffix} (or svix-${suffix}) header`);
  }
  return Array.isArray(value) && value.length === 1 ? value[0] : value;
}

function present(value: string | string[] | undefined): string | string[] | undefined {
  if (Array.isArray(value)) {
    const nonEmpty = value.filter((item) => item !== '');
    return nonEmpty.length > 0 ? nonEmpty : undefined;
  }
  return value === '' ? undefined : value;
}

function parseSignatures(header: string): Buffer[] {
  const candidates: Buffer[] = [];
  let considered = 0;
  for (const rawEntry of header.split(' ')) {
    const entry = rawEntry.endsWith(',') ? rawEntry.slice(0, -1) : rawEntry;
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== SIGNATURE_VERSION) {
      continue;
    }
    const decoded = decodeStrictBase64(entry.slice(comma + 1));
    if (decoded !== null && decoded.length === SIGNATURE_BYTES) {
      candidates.push(decoded);
    }
    if (++considered === MAX_SIGNATURES) {
      break;
    }
  }
  return candidates;
}

function decodeStrictBase64(value: string): Buffer | null {
  if (value === '' || !STRICT_BASE64.test(value)) {
    return null;
  }
  const decoded = Buffer.from(value, 'base64');
  // Rejects non-zero padding bits, so each byte string has exactly one accepted spelling.
  return decoded.toString('base64') === value ? decoded : null;
}

function hmac(key: Buffer, id: string, timestamp: string, rawBody: Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`, 'utf8').update(rawBody).digest();
}
