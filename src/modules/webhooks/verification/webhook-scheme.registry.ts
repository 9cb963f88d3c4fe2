import { GitHubScheme } from './github.scheme.js';
import { HmacSha256Scheme } from './hmac-sha256.scheme.js';
import { ShopifyScheme } from './shopify.scheme.js';
import { SlackScheme } from './slack.scheme.js';
import { StandardWebhooksScheme } from './standard-webhooks.scheme.js';
import { StripeScheme } from './stripe.scheme.js';
import { TokenScheme } from './token.scheme.js';
import type { WebhookScheme } from './webhook-scheme.interface.js';

/** A new scheme is its `<name>.scheme.ts`, its name here and its instance in SCHEMES; the first is the default. */
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

const SCHEMES: Record<WebhookSchemeName, WebhookScheme> = {
  'standard-webhooks': new StandardWebhooksScheme(),
  github: new GitHubScheme(),
  stripe: new StripeScheme(),
  slack: new SlackScheme(),
  shopify: new ShopifyScheme(),
  'hmac-sha256': new HmacSha256Scheme(),
  token: new TokenScheme(),
};

export const WEBHOOK_SCHEME_REGISTRY: ReadonlyMap<string, WebhookScheme> = new Map(
  WEBHOOK_SCHEME_NAMES.map((name) => [name, SCHEMES[name]]),
);

export function webhookScheme(name: string): WebhookScheme | undefined {
  return WEBHOOK_SCHEME_REGISTRY.get(name);
}
