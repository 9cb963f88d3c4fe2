import { createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';

/*
 * Each provider's published signing algorithm, written from its documentation with node:crypto alone
 * (never hookrun's scheme classes), so that the e2e tests check hookrun against what senders really do.
 */

const hmac = (key: string | Buffer, content: string) => createHmac('sha256', key).update(content, 'utf8');

/** GitHub: `X-Hub-Signature-256: sha256=` + hex HMAC-SHA256 of the body, keyed with the secret as typed. */
export function githubSignature(secret: string, body: string): string {
  return `sha256=${hmac(secret, body).digest('hex')}`;
}

/**
 * Stripe: `Stripe-Signature: t=<ts>,v1=<hex>`, the HMAC-SHA256 of `${t}.${body}` keyed with the whole
 * endpoint secret (`whsec_...` string included, not decoded).
 */
export function stripeSignature(secret: string, body: string, timestamp: number): string {
  return `t=${timestamp},v1=${hmac(secret, `${timestamp}.${body}`).digest('hex')}`;
}

/** Slack: `X-Slack-Signature: v0=` + hex HMAC-SHA256 of `v0:${X-Slack-Request-Timestamp}:${body}`. */
export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${hmac(secret, `v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the body, keyed with the app's client secret. */
export function shopifySignature(secret: string, body: string): string {
  return hmac(secret, body).digest('base64');
}

/** A generic sender: HMAC-SHA256 of the body in hex or base64. */
export function bodyHmac(secret: string | Buffer, body: string, encoding: 'hex' | 'base64'): string {
  return hmac(secret, body).digest(encoding);
}

/** Standard Webhooks `v1`: base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`, keyed with the bytes after `whsec_`. */
export function standardSignature(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${hmac(key, `${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** A Standard Webhooks ed25519 signer: `whpk_` public key for hookrun, `v1a,` signatures with the private key. */
export function ed25519Signer(): { publicKey: string; sign: (id: string, timestamp: number, body: string) => string } {
  const { publicKey, privateKey }: { publicKey: KeyObject; privateKey: KeyObject } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url');
  return {
    publicKey: `whpk_${raw.toString('base64')}`,
    sign: (id, timestamp, body) =>
      `v1a,${sign(null, Buffer.from(`${id}.${timestamp}.${body}`, 'utf8'), privateKey).toString('base64')}`,
  };
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
