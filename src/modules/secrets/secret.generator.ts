import { randomBytes } from 'node:crypto';

/** A Standard Webhooks signing secret: `whsec_` + standard base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${WEBHOOK_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

const WEBHOOK_SECRET_PREFIX = 'whsec_';
