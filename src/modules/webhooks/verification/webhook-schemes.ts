import type { WebhookScheme } from './webhook-scheme.js';
import { StandardWebhooksScheme } from './standard-webhooks.scheme.js';

/** Every signature scheme a trigger may use, by its `scheme` name. */
export const WEBHOOK_SCHEME_REGISTRY: ReadonlyMap<string, WebhookScheme> = new Map(
  [new StandardWebhooksScheme()].map((scheme) => [scheme.name, scheme]),
);
