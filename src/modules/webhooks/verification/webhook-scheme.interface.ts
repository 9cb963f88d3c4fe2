import type { KeyObject } from 'node:crypto';

import type { WebhookSchemeName } from './webhook-scheme.registry.js';

/** Node's IncomingHttpHeaders: lower-case names; a value is an array only when the caller kept duplicates apart. */
export type HeaderBag = Record<string, string | string[] | undefined>;

export interface SignedRequest {
  headers: HeaderBag;
  /** The bytes as received: signatures are over these, never over a re-serialised body. */
  rawBody: Buffer;
}

export interface VerifiedDelivery {
  /** What retries of a delivery share, for deduplication: the sender's id, else `sha256:<hex>` of what was signed. */
  deliveryId: string;
  timestamp: number | null;
}

/** HMAC key bytes, or an ed25519 public key (`whpk_`): distinct types, so a public key is never taken for a secret. */
export type PreparedKey = Buffer | KeyObject;

export interface SchemeOptions {
  readonly signatureHeader?: string;
  readonly encoding?: 'hex' | 'base64';
  readonly prefix?: string;
  readonly tokenHeader?: string;
  readonly idHeader?: string;
}

export interface SigningInput {
  rawBody: Buffer;
  /** The trigger's current secret, in clear. */
  secret: string;
  deliveryId: string;
  nowSeconds: number;
  options?: SchemeOptions;
}

export type HandshakeAnswer = Readonly<Record<string, unknown>>;

// Stateless: the caller owns the secrets and caches keys and options.
export interface WebhookScheme {
  readonly name: WebhookSchemeName;
  readonly generatesSecret: boolean;
  readonly usesTimestamp: boolean;
  /** This and `validateSecret` throw a plain Error (never quoting the secret), which becomes a 400. */
  validateOptions(raw: unknown): SchemeOptions;
  validateSecret(secret: string): void;
  prepareKey(secret: string): PreparedKey;
  /** AuthenticationError for the sender's faults, plain Error for the server's; `keys`: current first, then in grace. */
  verify(
    request: SignedRequest,
    keys: readonly PreparedKey[],
    toleranceSeconds: number,
    nowSeconds: number,
    options?: SchemeOptions,
  ): VerifiedDelivery;
  /** Headers under which `rawBody` verifies, for test deliveries made by the server; null when it holds no signing key. */
  sign(input: SigningInput): Record<string, string> | null;
  /** Once verified: the answer to a sender checking the URL (Slack's `url_verification`), which starts no run. */
  handshake?(rawBody: Buffer, contentType: string | undefined): HandshakeAnswer | undefined;
}
