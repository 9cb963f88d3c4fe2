import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { AuthenticationError } from '../../../common/domain.error.js';
import type { HeaderBag, PreparedKey, SchemeOptions, SignedRequest, VerifiedDelivery } from './webhook-scheme.js';

/*
 * What every scheme shares. Limits keep the work an unauthenticated caller can cause small and fixed:
 * a header is read only up to MAX_HEADER_CHARS, at most MAX_SIGNATURES signatures are considered, and
 * at most MAX_KEYS keys are tried (one HMAC of the body each).
 */

// The current secret and up to 10 previous ones in their grace period (MAX_PREVIOUS_SECRETS).
export const MAX_KEYS = 11;
export const MAX_SIGNATURES = 10;
export const MAX_HEADER_CHARS = 4096;
export const MIN_SHARED_SECRET_CHARS = 16;
export const MAX_SHARED_SECRET_CHARS = 512;
export const HMAC_SHA256_BYTES = 32;

// Ids are stored and logged for deduplication, so only short, printable ones are accepted.
const DELIVERY_ID = /^[\x21-\x7e]{1,256}$/;
const TIMESTAMP = /^\d{1,10}$/;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^[0-9a-fA-F]*$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
// Node trims a header value's ends, so a prefix must not start with whitespace; it may end with one ("Bearer ").
const PREFIX = /^(?:[\x21-\x7e][\x20-\x7e]{0,31})?$/;
// Headers that proxies or Node itself own or rewrite: a signature, token or id cannot travel in them.
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-authorization',
  'cookie',
]);

/** Server-side arguments: a NaN here would make every timestamp pass, so fail loudly instead of open. */
export function assertServerArguments(request: SignedRequest, toleranceSeconds: number, nowSeconds: number): void {
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0 || !Number.isFinite(nowSeconds)) {
    throw new RangeError('toleranceSeconds and nowSeconds must be finite, toleranceSeconds >= 0');
  }
  if (!Buffer.isBuffer(request.rawBody)) {
    throw new TypeError('The raw request body is required to verify a signature');
  }
}

/** The header's value with empty entries dropped; undefined when absent or empty. */
export function headerValues(headers: HeaderBag, name: string): string | string[] | undefined {
  // Own properties only: a configured header named "constructor" or "__proto__" must not reach Object.prototype.
  const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
  if (Array.isArray(value)) {
    const nonEmpty = value.filter((item) => item !== '');
    return nonEmpty.length > 0 ? nonEmpty : undefined;
  }
  return value === '' ? undefined : value;
}

/** A header that must appear at most once: a repeated one is ambiguous, so it is refused rather than guessed at. */
export function singleHeader(headers: HeaderBag, name: string, label: string): string | undefined {
  const value = headerValues(headers, name);
  if (!Array.isArray(value)) return value;
  if (value.length === 1) return value[0];
  throw new AuthenticationError('invalid_signature', `${label} must be sent once`);
}

/** A header the scheme cannot do without: absent is missing_signature, oversized is invalid_signature. */
export function requireHeader(headers: HeaderBag, name: string, label: string): string {
  const value = singleHeader(headers, name, label);
  if (value === undefined) {
    throw new AuthenticationError('missing_signature', `Missing ${label} header`);
  }
  if (value.length > MAX_HEADER_CHARS) {
    throw new AuthenticationError('invalid_signature', `${label} is longer than ${MAX_HEADER_CHARS} characters`);
  }
  return value;
}

/** A timestamp header: repeated values are not one integer, so they fail the timestamp check, not the signature's. */
export function requireTimestampHeader(headers: HeaderBag, name: string, label: string): string {
  const value = headerValues(headers, name);
  if (value === undefined) {
    throw new AuthenticationError('missing_signature', `Missing ${label} header`);
  }
  if (!Array.isArray(value)) return value;
  return value.length === 1 ? value[0] : '';
}

/** Unix seconds as 1-10 ASCII digits, nothing else, within the tolerance either way. */
export function checkTimestamp(text: string, label: string, toleranceSeconds: number, nowSeconds: number): number {
  if (!TIMESTAMP.test(text)) {
    throw new AuthenticationError('timestamp_out_of_tolerance', `${label} must be an integer number of seconds`);
  }
  const timestamp = Number(text);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new AuthenticationError(
      'timestamp_out_of_tolerance',
      `${label} is more than ${toleranceSeconds} seconds away from the server's clock`,
    );
  }
  return timestamp;
}

/** Padded standard base64, and only its canonical spelling, so each byte string has exactly one accepted form. */
export function decodeStrictBase64(value: string): Buffer | null {
  if (value === '' || !STRICT_BASE64.test(value)) {
    return null;
  }
  const decoded = Buffer.from(value, 'base64');
  // Rejects non-zero padding bits, which Buffer.from would silently ignore.
  return decoded.toString('base64') === value ? decoded : null;
}

/** Exactly `bytes` bytes of hex; either case, since both spell the same bytes and senders differ. */
export function decodeHex(value: string, bytes: number): Buffer | null {
  // Length first: Buffer.from(hex) stops quietly at the first bad pair, and the regex should not scan huge input.
  return value.length === bytes * 2 && HEX.test(value) ? Buffer.from(value, 'hex') : null;
}

export function hmacSha256(key: Buffer, ...parts: readonly (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) {
    if (typeof part === 'string') hmac.update(part, 'utf8');
    else hmac.update(part);
  }
  return hmac.digest();
}

/** The HMAC keys among the first MAX_KEYS keys; an asymmetric key is never used as an HMAC secret. */
export function hmacKeys(keys: readonly PreparedKey[]): Buffer[] {
  return keys.slice(0, MAX_KEYS).filter((key): key is Buffer => Buffer.isBuffer(key));
}

/**
 * Whether any candidate equals the expected MAC under any key: one MAC per key, compared in constant
 * time. A candidate of another length is not compared at all, so timingSafeEqual never throws.
 */
export function anyKeyMatches(
  keys: readonly PreparedKey[],
  candidates: readonly Buffer[],
  expectedFor: (key: Buffer) => Buffer,
): boolean {
  if (candidates.length === 0) return false;
  for (const key of hmacKeys(keys)) {
    const expected = expectedFor(key);
    let matched = false;
    // Every candidate is compared, so the time does not tell which one matched.
    for (const candidate of candidates) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
    }
    if (matched) return true;
  }
  return false;
}

export function isDeliveryId(value: string): boolean {
  return DELIVERY_ID.test(value);
}

/** The sender's id from an optional header, refused (not silently replaced) when it is malformed. */
export function deliveryIdHeader(headers: HeaderBag, name: string, label: string): string | undefined {
  const value = singleHeader(headers, name, label);
  if (value !== undefined && !DELIVERY_ID.test(value)) {
    throw new AuthenticationError('invalid_signature', `${label} must be 1 to 256 visible ASCII characters`);
  }
  return value;
}

/** A delivery id for senders that give none: the same signed content always gives the same id. */
export function contentHashId(...parts: readonly (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    if (typeof part === 'string') hash.update(part, 'utf8');
    else hash.update(part);
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * A top-level string field of a JSON object body, when it is a usable delivery id. Call only once the
 * signature has verified: parsing is the costliest thing here and must not be offered to strangers.
 */
export function jsonStringField(rawBody: Buffer, field: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, field)) {
    return undefined;
  }
  const value = (parsed as Record<string, unknown>)[field];
  return typeof value === 'string' && DELIVERY_ID.test(value) ? value : undefined;
}

/**
 * A secret the user copied from a provider or chose: 16-512 characters, no control characters and no
 * surrounding whitespace (almost always a copy-paste slip). Messages never quote the secret.
 */
export function checkSharedSecret(scheme: string, secret: string, rules: { asciiOnly?: boolean } = {}): void {
  if (typeof secret !== 'string') {
    throw new Error(`A ${scheme} secret must be a string`);
  }
  if (secret.length < MIN_SHARED_SECRET_CHARS || secret.length > MAX_SHARED_SECRET_CHARS) {
    throw new Error(
      `A ${scheme} secret must be ${MIN_SHARED_SECRET_CHARS} to ${MAX_SHARED_SECRET_CHARS} characters long`,
    );
  }
  if (hasControlCharacter(secret) || secret.trim() !== secret) {
    throw new Error(`A ${scheme} secret must not contain control characters or start or end with whitespace`);
  }
  if (rules.asciiOnly && !/^[\x20-\x7e]+$/.test(secret)) {
    throw new Error(`A ${scheme} secret must be printable ASCII: it is sent in an HTTP header`);
  }
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Options of a scheme that takes none: nothing, null or `{}`. */
export function noOptions(scheme: string, raw: unknown): SchemeOptions {
  readOptions(scheme, raw, []);
  return {};
}

/** The raw options as a record, refusing anything that is not a plain object or names an unknown option. */
export function readOptions(
  scheme: string,
  raw: unknown,
  allowed: readonly (keyof SchemeOptions)[],
): Partial<Record<keyof SchemeOptions, unknown>> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`Options of the ${scheme} scheme must be an object`);
  }
  const unknown = Object.keys(raw).filter((key) => !(allowed as readonly string[]).includes(key));
  if (unknown.length > 0) {
    const named = unknown
      .slice(0, 5)
      .map((key) => JSON.stringify(key.slice(0, 40)))
      .join(', ');
    const accepted = allowed.length > 0 ? `it accepts only ${allowed.join(', ')}` : 'it takes no options';
    throw new Error(`Unknown option ${named} for the ${scheme} scheme: ${accepted}`);
  }
  return raw;
}

/** An HTTP header name, lower-cased as Node presents it. */
export function headerNameOption(scheme: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    throw new Error(`${field} of the ${scheme} scheme must be an HTTP header name of 1 to 64 characters`);
  }
  const name = value.toLowerCase();
  if (RESERVED_HEADERS.has(name)) {
    throw new Error(`${field} of the ${scheme} scheme cannot be ${name}: proxies and servers own that header`);
  }
  return name;
}

export function prefixOption(scheme: string, value: unknown): string {
  if (value === undefined) return '';
  if (typeof value !== 'string' || !PREFIX.test(value)) {
    throw new Error(
      `prefix of the ${scheme} scheme must be at most 32 printable ASCII characters, not starting with a space`,
    );
  }
  return value;
}

/** Where a body-only HMAC travels: `prefix` + the hex or base64 HMAC-SHA256 of the raw body. */
export interface BodyHmacRule {
  signatureHeader: string;
  /** The header's name as people write it, for messages. */
  signatureLabel: string;
  prefix: string;
  encoding: 'hex' | 'base64';
  /** A header with the sender's delivery id; without one (or when it is absent) the body's hash is the id. */
  idHeader?: string;
  idLabel?: string;
}

/**
 * GitHub, Shopify and the configurable hmac-sha256 scheme: nothing but the body is signed, so there is
 * no timestamp, and deduplication on the delivery id is all the replay protection there is.
 */
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

/** A user-supplied HMAC secret is used as-is: its UTF-8 bytes are the key, as every provider here does. */
export function utf8Key(secret: string): Buffer {
  return Buffer.from(secret, 'utf8');
}
