import { AuthenticationError } from '../../../common/domain.error.js';
import { contentHashId } from './delivery-id.rules.js';
import { anyKeyMatches, hmacSha256 } from './hmac.compare.js';
import { deliveryIdHeader, requireHeader } from './signature-header.reader.js';
import { decodeHex, decodeStrictBase64 } from './signature.encoding.js';
import { HMAC_SHA256_BYTES } from './signature.limits.js';
import { utf8Key } from './shared-secret.rules.js';
import type { PreparedKey, SignedRequest, SigningInput, VerifiedDelivery } from './webhook-scheme.interface.js';

export interface BodyHmacRule {
  signatureHeader: string;
  signatureLabel: string;
  prefix: string;
  encoding: 'hex' | 'base64';
  idHeader?: string;
  idLabel?: string;
}

export function signBodyHmac(input: SigningInput, rule: BodyHmacRule): Record<string, string> {
  const digest = hmacSha256(utf8Key(input.secret), input.rawBody).toString(rule.encoding);
  const headers: Record<string, string> = { [rule.signatureHeader]: `${rule.prefix}${digest}` };
  if (rule.idHeader !== undefined) headers[rule.idHeader] = input.deliveryId;
  return headers;
}

/** Only the body is signed: deduplication on the delivery id is all the replay protection there is. */
export function verifyBodyHmac(
  request: SignedRequest,
  keys: readonly PreparedKey[],
  rule: BodyHmacRule,
): VerifiedDelivery {
  const value = requireHeader(request.headers, rule.signatureHeader, rule.signatureLabel);
  const deliveryId =
    rule.idHeader === undefined
      ? undefined
      : deliveryIdHeader(request.headers, rule.idHeader, rule.idLabel ?? rule.idHeader);
  const encoded = value.startsWith(rule.prefix) ? value.slice(rule.prefix.length) : '';
  const candidate = rule.encoding === 'hex' ? decodeHex(encoded, HMAC_SHA256_BYTES) : decodeStrictBase64(encoded);
  if (candidate === null || candidate.length !== HMAC_SHA256_BYTES) {
    const spelled = rule.encoding === 'hex' ? '64 hex digits' : 'standard base64 of 32 bytes';
    const prefix = rule.prefix === '' ? '' : `"${rule.prefix}" followed by `;
    throw new AuthenticationError('invalid_signature', `${rule.signatureLabel} must be ${prefix}${spelled}`);
  }
  if (!anyKeyMatches(keys, [candidate], (key) => hmacSha256(key, request.rawBody))) {
    throw new AuthenticationError('invalid_signature', `${rule.signatureLabel} does not match`);
  }
  return { deliveryId: deliveryId ?? contentHashId(request.rawBody), timestamp: null };
}
