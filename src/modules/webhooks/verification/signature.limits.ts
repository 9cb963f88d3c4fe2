import type { SignedRequest } from './webhook-scheme.interface.js';

// Bounds the work an unauthenticated caller can cause: at most MAX_SIGNATURES signatures and MAX_KEYS HMACs.

export const MAX_KEYS = 11;
export const MAX_SIGNATURES = 10;
export const HMAC_SHA256_BYTES = 32;

/** Server-side arguments: a NaN here would make every timestamp pass, so fail loudly instead of open. */
export function assertServerArguments(request: SignedRequest, toleranceSeconds: number, nowSeconds: number): void {
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0 || !Number.isFinite(nowSeconds)) {
    throw new RangeError('toleranceSeconds and nowSeconds must be finite, toleranceSeconds >= 0');
  }
  if (!Buffer.isBuffer(request.rawBody)) {
    throw new TypeError('The raw request body is required to verify a signature');
  }
}
