import { randomBytes } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';

import { AuthenticationError, NotFoundError } from '../../common/domain.error.js';
import { generateSlug } from './webhook-slug.generator.js';
import type { ResolvedTrigger, TriggerCache } from './trigger.cache.js';
import { signStandardWebhook, StandardWebhooksScheme } from './verification/standard-webhooks.scheme.js';
import { WebhookVerificationService } from './webhook-verification.service.js';

const scheme = new StandardWebhooksScheme();
const T0 = Date.parse('2026-11-27T12:00:00Z');
const BODY = Buffer.from('{"order":42}');
// Slugs of the generated shape: any other is refused before the cache is asked.
const [HOOKS, KNOWN, LOADED, NOWHERE] = [generateSlug(), generateSlug(), generateSlug(), generateSlug()];

function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A trigger as the cache resolves it: the current secret, and the previous one until `oldExpiresAt`. */
function resolvedTrigger(current: string, old: string, oldExpiresAt: number): ResolvedTrigger {
  const keys = [
    { key: scheme.prepareKey(current), expiresAt: null },
    { key: scheme.prepareKey(old), expiresAt: oldExpiresAt },
  ];
  return {
    id: 'trigger-1',
    workflowId: 'workflow-1',
    scheme,
    options: scheme.validateOptions({}),
    toleranceSeconds: 300,
    filter: null,
    active: true,
    keys,
    allKeys: keys.map((k) => k.key),
    firstExpiry: oldExpiresAt,
  };
}

/** The cache as the service sees it: `cached` answers for the slugs it holds, `get` loads the others. */
function cacheOf(
  triggers: Record<string, ResolvedTrigger | null>,
  loadable: Record<string, ResolvedTrigger | null>,
  asked: string[] = [],
  loaded: string[] = [],
) {
  return {
    cached: (slug: string) => {
      asked.push(slug);
      return triggers[slug];
    },
    get: (slug: string) => {
      asked.push(slug);
      loaded.push(slug);
      return Promise.resolve(loadable[slug] ?? null);
    },
  } as unknown as TriggerCache;
}

function signed(secret: string, id: string) {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(scheme.prepareKey(secret) as Buffer, id, timestamp, BODY),
  };
}

async function expectAuthErrorAsync(verifying: Promise<unknown>, code: string): Promise<void> {
  const error: unknown = await verifying.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AuthenticationError);
  expect((error as AuthenticationError).code).toBe(code);
}

describe('WebhookVerificationService', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('verifies a cached trigger without loading it, with the old secret only until it expires', async () => {
    const current = newSecret();
    const old = newSecret();
    const loaded: string[] = [];
    const service = new WebhookVerificationService(
      cacheOf({ [HOOKS]: resolvedTrigger(current, old, T0 + 60_000) }, {}, [], loaded),
    );

    expect((await service.verify(HOOKS, signed(old, 'msg_1'), BODY)).deliveryId).toBe('msg_1');
    expect((await service.verify(HOOKS, signed(current, 'msg_2'), BODY)).deliveryId).toBe('msg_2');

    jest.setSystemTime(T0 + 60_000);
    await expectAuthErrorAsync(service.verify(HOOKS, signed(old, 'msg_3'), BODY), 'invalid_signature');
    expect((await service.verify(HOOKS, signed(current, 'msg_4'), BODY)).deliveryId).toBe('msg_4');
    expect(loaded).toEqual([]);
  });

  it('loads a trigger the cache does not hold, and refuses an unknown slug', async () => {
    const current = newSecret();
    const service = new WebhookVerificationService(
      cacheOf({ [KNOWN]: null }, { [LOADED]: resolvedTrigger(current, newSecret(), T0 + 1) }),
    );

    expect((await service.verify(LOADED, signed(current, 'msg_5'), BODY)).deliveryId).toBe('msg_5');
    await expect(service.verify(KNOWN, signed(current, 'msg_6'), BODY)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.verify(NOWHERE, signed(current, 'msg_7'), BODY)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses a slug that generateSlug could not have made without asking the cache', async () => {
    const current = newSecret();
    const asked: string[] = [];
    const trigger = resolvedTrigger(current, newSecret(), T0 + 1);
    const oddSlugs = ['\0', 'a\0b', 'no-such-slug', `${HOOKS}x`, `${HOOKS.slice(1)}/`, `${HOOKS.slice(1)}\0`];
    // Even a cache that would answer for them is not asked.
    const service = new WebhookVerificationService(
      cacheOf(Object.fromEntries([HOOKS, ...oddSlugs].map((slug) => [slug, trigger])), {}, asked),
    );
    for (const slug of oddSlugs) {
      await expect(service.verify(slug, signed(current, 'msg_8'), BODY)).rejects.toBeInstanceOf(NotFoundError);
    }
    expect(asked).toEqual([]);
    expect((await service.verify(HOOKS, signed(current, 'msg_9'), BODY)).deliveryId).toBe('msg_9');
    expect(asked).toEqual([HOOKS]);
  });
});
