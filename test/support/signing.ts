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
  const id = options.id ?? `msg_${Math.random().toString(36).slice(2)}${Date.now()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
  const prefix = options.prefix ?? 'webhook';
  return {
    [`${prefix}-id`]: id,
    [`${prefix}-timestamp`]: String(timestamp),
    [`${prefix}-signature`]: signature,
  };
}
