/** Node's IncomingHttpHeaders: lower-case names; a value is an array only when the caller kept duplicates apart. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignedRequest {
  headers: HeaderBag;
  /** The bytes as received: signatures are over these, never over a re-serialised body. */
  rawBody: Buffer;
}

export interface VerifiedDelivery {
  /** The sender's id for this delivery, used to deduplicate retries (`webhook-id` for Standard Webhooks). */
  deliveryId: string;
  /** Unix seconds the sender signed, or null for schemes that carry no timestamp. */
  timestamp: number | null;
}

/**
 * One way of authenticating a webhook sender. Implementations are plain, stateless classes: the
 * caller owns secrets, decrypts them, and caches the prepared keys.
 */
export interface WebhookScheme {
  readonly name: string;
  /** Turns one stored secret into key material; called once per secret and cached by the caller. Throws on a malformed secret. */
  prepareKey(secret: string): Buffer;
  /**
   * Throws AuthenticationError (src/common/errors.ts) with code missing_signature | invalid_signature |
   * timestamp_out_of_tolerance. `keys` lists the current key first, then the previous ones still in grace.
   */
  verify(
    request: SignedRequest,
    keys: readonly Buffer[],
    toleranceSeconds: number,
    nowSeconds: number,
  ): VerifiedDelivery;
}
