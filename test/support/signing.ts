import { createHmac } from 'node:crypto';

import { Webhook } from 'standardwebhooks';

/**
 * Signs like a Standard Webhooks sender does, with the reference implementation (the `standardwebhooks`
 * package), never with hookrun's own code.
 */
export function signedHeaders(
  secret: string,
  body: string,
  options: { id?: string; timestamp?: number; prefix?: 'webhook' | 'svix' } = {},
): Record<string, string> {
  const id = options.id ?? newMessageId();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  const prefix = options.prefix ?? 'webhook';
  return {
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(timestamp),
    [`${prefix}-signature`]: signature,
  };
}

/**
 * The same signature over raw bytes, for bodies that are not UTF-8: the reference implementation decodes
 * a Buffer to a string first, which would sign U+FFFD instead of the bytes sent. Written from the
 * specification with node:crypto: `v1,` + base64(HMAC-SHA256(key after `whsec_`, `${id}.${ts}.` + body)).
 */
export function signedHeadersForBytes(secret: string, body: Buffer): Record<string, string> {
  const id = newMessageId();
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${timestamp}.`)
    .update(body)
    .digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${signature}` };
}

function newMessageId(): string {
  return `msg_${Math.random().toString(36).slice(2)}${Date.now()}`;
}
