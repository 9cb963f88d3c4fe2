import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import { ChangeFeed } from '../../common/change.feed.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import type { TriggerSecret } from '../secrets/trigger-secret.entity.js';
import { TriggerSecretsService } from '../secrets/trigger-secrets.service.js';
import { TriggerFilterEvaluator, type TriggerFilter } from './trigger-filter.evaluator.js';
import { WEBHOOK_SCHEME_REGISTRY } from './verification/webhook-scheme.registry.js';
import type { PreparedKey, SchemeOptions, WebhookScheme } from './verification/webhook-scheme.interface.js';
import { WebhookTriggersRepository } from './webhook-triggers.repository.js';

interface VerificationKey {
  key: PreparedKey;
  expiresAt: number | null;
}

/** Secrets decrypted and turned into keys once per cache entry, not per request. */
export interface ResolvedTrigger {
  id: string;
  workflowId: string;
  scheme: WebhookScheme;
  /** null when the stored options do not validate: then nothing verifies. */
  options: SchemeOptions | null;
  toleranceSeconds: number;
  /** Compiled when the entry loads: a trigger without one pays nothing per delivery. */
  filter: TriggerFilter | null;
  active: boolean;
  keys: VerificationKey[];
  allKeys: PreparedKey[];
  firstExpiry: number;
}

const MAX_ENTRIES = 10_000;

// Unknown slugs are cached too so guessing slugs does not hit the database; the change feed evicts at once.
@Injectable()
export class TriggerCache implements OnModuleDestroy {
  private readonly logger = new Logger(TriggerCache.name);
  private readonly entries = new Map<string, { value: ResolvedTrigger | null; until: number }>();
  private readonly slugsByWorkflow = new Map<string, string>();
  private readonly loading = new Map<string, Promise<ResolvedTrigger | null>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly triggers: WebhookTriggersRepository,
    private readonly secrets: TriggerSecretsService,
    private readonly filters: TriggerFilterEvaluator,
    changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.unsubscribe = changes.subscribe((change) => {
      if (change.slug) this.entries.delete(change.slug);
      const slug = this.slugsByWorkflow.get(change.workflowId);
      if (slug) this.entries.delete(slug);
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** null: no such trigger; undefined: not cached. */
  cached(slug: string): ResolvedTrigger | null | undefined {
    const hit = this.entries.get(slug);
    return hit !== undefined && hit.until > Date.now() ? hit.value : undefined;
  }

  async get(slug: string): Promise<ResolvedTrigger | null> {
    const hit = this.cached(slug);
    if (hit !== undefined) return hit;
    const pending = this.loading.get(slug);
    if (pending) return pending;
    const load = this.load(slug).finally(() => this.loading.delete(slug));
    this.loading.set(slug, load);
    return load;
  }

  private async load(slug: string): Promise<ResolvedTrigger | null> {
    const now = new Date();
    const found = await this.triggers.findForIngest(slug, now);
    const scheme = found ? WEBHOOK_SCHEME_REGISTRY.get(found.scheme) : undefined;
    const value: ResolvedTrigger | null =
      found && scheme
        ? {
            id: found.id,
            workflowId: found.workflowId,
            scheme,
            options: this.optionsOf(found.id, found.options, scheme),
            toleranceSeconds: found.toleranceSeconds,
            filter: found.filter === null ? null : this.filters.compile(found.filter),
            active: found.active,
            ...this.keysOf(found.id, found.secrets, scheme),
          }
        : null;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(slug, { value, until: now.getTime() + this.config.triggerCacheTtlMs });
    if (value) this.slugsByWorkflow.set(value.workflowId, slug);
    return value;
  }

  private optionsOf(triggerId: string, stored: unknown, scheme: WebhookScheme): SchemeOptions | null {
    try {
      return scheme.validateOptions(stored);
    } catch (error) {
      this.logger.error(
        `Options of trigger ${triggerId} are unusable, so it verifies nothing: ${(error as Error).message}`,
      );
      return null;
    }
  }

  private keysOf(
    triggerId: string,
    rows: TriggerSecret[],
    scheme: WebhookScheme,
  ): Pick<ResolvedTrigger, 'keys' | 'allKeys' | 'firstExpiry'> {
    const keys: VerificationKey[] = [];
    for (const row of rows) {
      try {
        const [open] = this.secrets.open([row]);
        keys.push({ key: scheme.prepareKey(open.secret), expiresAt: open.expiresAt?.getTime() ?? null });
      } catch (error) {
        this.logger.error(`Secret ${row.id} of trigger ${triggerId} is unusable: ${(error as Error).name}`);
      }
    }
    return {
      keys,
      allKeys: keys.map((k) => k.key),
      firstExpiry: Math.min(...keys.map((k) => k.expiresAt ?? Infinity)),
    };
  }
}
