import { GitHubScheme } from './github.scheme.js';
import { HmacSha256Scheme } from './hmac-sha256.scheme.js';
import { ShopifyScheme } from './shopify.scheme.js';
import { SlackScheme } from './slack.scheme.js';
import { StandardWebhooksScheme } from './standard-webhooks.scheme.js';
import { StripeScheme } from './stripe.scheme.js';
import { TokenScheme } from './token.scheme.js';
import { WEBHOOK_SCHEME_NAMES, type WebhookScheme, type WebhookSchemeName } from './webhook-scheme.interface.js';

export { DEFAULT_WEBHOOK_SCHEME, WEBHOOK_SCHEME_NAMES, type WebhookSchemeName } from './webhook-scheme.interface.js';

const SCHEMES: Record<WebhookSchemeName, WebhookScheme> = {
  'standard-webhooks': new StandardWebhooksScheme(),
  github: new GitHubScheme(),
  stripe: new StripeScheme(),
  slack: new SlackScheme(),
  shopify: new ShopifyScheme(),
  'hmac-sha256': new HmacSha256Scheme(),
  token: new TokenScheme(),
};

/** Every signature scheme a trigger may use, by its `scheme` name, in WEBHOOK_SCHEME_NAMES order. */
export const WEBHOOK_SCHEME_REGISTRY: ReadonlyMap<string, WebhookScheme> = new Map(
  WEBHOOK_SCHEME_NAMES.map((name) => [name, SCHEMES[name]]),
);

/** The scheme of that name, or undefined (an unknown name from a request or an old row). */
export function webhookScheme(name: string): WebhookScheme | undefined {
  return WEBHOOK_SCHEME_REGISTRY.get(name);
}
