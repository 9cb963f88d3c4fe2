import { AuthenticationError } from '../../../common/domain.error.js';
import { isDeliveryId } from './delivery-id.rules.js';
import type { HeaderBag } from './webhook-scheme.interface.js';

const MAX_HEADER_CHARS = 4096;

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
function singleHeader(headers: HeaderBag, name: string, label: string): string | undefined {
  const value = headerValues(headers, name);
  if (!Array.isArray(value)) return value;
  if (value.length === 1) return value[0];
  throw new AuthenticationError('invalid_signature', `${label} must be sent once`);
}

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

export function deliveryIdHeader(headers: HeaderBag, name: string, label: string): string | undefined {
  const value = singleHeader(headers, name, label);
  if (value !== undefined && !isDeliveryId(value)) {
    throw new AuthenticationError('invalid_signature', `${label} must be 1 to 256 visible ASCII characters`);
  }
  return value;
}
