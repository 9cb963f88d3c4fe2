import type { KeyObject } from 'node:crypto';

/** Node's IncomingHttpHeaders: lower-case names; a value is an array only when the caller kept duplicates apart. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignedRequest {
  headers: HeaderBag;
  /** The bytes as received: signatures are over these, never over a re-serialised body. */
  rawBody: Buffer;
}

export interface VerifiedDelivery {
  /**
   * What retries of this delivery share, used to deduplicate them: the sender's id (`webhook-id`,
   * `X-GitHub-Delivery`, a Stripe event id...) or, when the sender gives none, `sha256:<hex>` of what
   * was signed. At most 256 visible ASCII characters.
   */
  deliveryId: string;
  /** Unix seconds the sender signed, or null for schemes that carry no timestamp. */
  timestamp: number | null;
}

/** Every scheme a trigger may use; the first is the default. */
export const WEBHOOK_SCHEME_NAMES = [
  'standard-webhooks',
  'github',
  'stripe',
  'slack',
  'shopify',
  'hmac-sha256',
  'token',
] as const;
export type WebhookSchemeName = (typeof WEBHOOK_SCHEME_NAMES)[number];
export const DEFAULT_WEBHOOK_SCHEME: WebhookSchemeName = 'standard-webhooks';

/**
 * Key material made from one stored secret: the HMAC key bytes (or, for `token`, the SHA-256 of the
 * token), or an ed25519 public key for Standard Webhooks `whpk_` keys. The two are different types on
 * purpose, so that a public key can never be mistaken for an HMAC secret.
 */
export type PreparedKey = Buffer | KeyObject;

/**
 * Per-trigger settings, as returned by `validateOptions` (normalised: header names lower-case,
 * defaults filled in). Only `hmac-sha256` and `token` take any; every other scheme takes `{}`.
 */
export interface SchemeOptions {
  /** hmac-sha256: the header holding `prefix` + the encoded HMAC-SHA256 of the raw body. */
  readonly signatureHeader?: string;
  /** hmac-sha256: how the HMAC is written (default `hex`; hex digits of either case are accepted). */
  readonly encoding?: 'hex' | 'base64';
  /** hmac-sha256 and token: text before the signature or token, such as `sha256=` or `Bearer ` (default ''). */
  readonly prefix?: string;
  /** token: the header holding `prefix` + the token. */
  readonly tokenHeader?: string;
  /** hmac-sha256 and token: a header with the sender's delivery id, for deduplication. */
  readonly idHeader?: string;
}

/** What the sender expects back, with a 200, from a request that checks the URL rather than delivers. */
export type HandshakeAnswer = Readonly<Record<string, unknown>>;

/**
 * One way of authenticating a webhook sender. Implementations are plain, stateless classes: the
 * caller owns secrets, decrypts them, and caches the prepared keys and validated options.
 */
export interface WebhookScheme {
  readonly name: WebhookSchemeName;
  /**
   * True when the service makes the secret (`whsec_` + base64 of 32 random bytes, as
   * `generateWebhookSecret()` does) if the user gives none; false when the user must supply the
   * provider's secret on creation and rotation. A user-supplied secret is accepted by every scheme.
   */
  readonly generatesSecret: boolean;
  /** False for schemes whose senders sign no timestamp: deduplication on `deliveryId` is then the only replay rule. */
  readonly usesTimestamp: boolean;
  /** Checks and normalises a trigger's settings (`undefined`/`null` mean none); throws a plain Error for a 400. */
  validateOptions(raw: unknown): SchemeOptions;
  /** Checks a user-supplied secret; throws a plain Error, whose message never contains the secret, for a 400. */
  validateSecret(secret: string): void;
  /** Turns one stored secret into key material; called once per secret and cached by the caller. Throws on a malformed secret. */
  prepareKey(secret: string): PreparedKey;
  /**
   * Throws AuthenticationError (src/common/errors.ts) with code missing_signature | invalid_signature |
   * timestamp_out_of_tolerance. `keys` lists the current key first, then the previous ones still in
   * grace; only the first 11 are tried. `options` are what `validateOptions` returned for the trigger.
   * Throws a plain Error (a server fault, never the sender's) on bad arguments or missing required options.
   */
  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
    options?: SchemeOptions,
  ): VerifiedDelivery;
  /**
   * For senders that check the URL with a signed request (Slack's `url_verification`): called once `verify` has
   * passed, it gives the answer to such a request, which starts no run, and undefined for a delivery.
   */
  handshake?(rawBody: Buffer, contentType: string | undefined): HandshakeAnswer | undefined;
}
