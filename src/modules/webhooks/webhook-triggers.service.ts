import { Inject, Injectable } from '@nestjs/common';
import { newId } from '../../common/ids.util.js';

import { ChangeFeed } from '../../common/change.feed.js';
import { ConflictError, NotFoundError } from '../../common/domain.error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { SecretDecryptionError } from '../secrets/secret.cipher.js';
import { generateSlug } from './webhook-slug.generator.js';
import type { TriggerSecret } from '../secrets/trigger-secret.entity.js';
import { DEFAULT_GRACE_PERIOD_SECONDS, TriggerSecretsService } from '../secrets/trigger-secrets.service.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  toCreatedWebhookTriggerResponse,
  toWebhookTriggerResponse,
  type CreatedWebhookTriggerResponse,
  type CreateWebhookTriggerDto,
  type RotatedSecretResponse,
  type RotateSecretDto,
  type UpdateWebhookTriggerDto,
  type WebhookTriggerResponse,
} from './dto/webhook-trigger.dto.js';
import {
  checkedOptions,
  checkSecret,
  givenOrGeneratedSecret,
  invalid,
  schemeNamed,
  secretFits,
} from './trigger-scheme.rules.js';
import { checkFilter } from './trigger-filter.evaluator.js';
import type { WebhookScheme } from './verification/webhook-scheme.interface.js';
import { DEFAULT_WEBHOOK_SCHEME } from './verification/webhook-scheme.registry.js';
import type { WebhookTrigger } from './webhook-trigger.entity.js';
import { WebhookDeliveriesRepository } from './deliveries/webhook-deliveries.repository.js';
import { WebhookTriggersRepository } from './webhook-triggers.repository.js';

@Injectable()
export class WebhookTriggersService {
  constructor(
    private readonly triggers: WebhookTriggersRepository,
    private readonly secrets: TriggerSecretsService,
    private readonly workflows: WorkflowsService,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
  ) {}

  async create(workflowId: string, dto: CreateWebhookTriggerDto): Promise<CreatedWebhookTriggerResponse> {
    const scheme = schemeNamed(dto.scheme ?? DEFAULT_WEBHOOK_SCHEME);
    const options = checkedOptions(scheme, dto.options);
    const given = givenOrGeneratedSecret(scheme, dto.secret);
    const filter = dto.filter ?? null;
    if (filter !== null) checkFilter(filter);
    await this.workflows.assertExists(workflowId);
    const now = new Date();
    const trigger: WebhookTrigger = {
      id: newId(),
      workflowId,
      slug: generateSlug(),
      scheme: scheme.name,
      options,
      enabled: true,
      toleranceSeconds: dto.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      filter,
      createdAt: now,
      updatedAt: now,
    };
    const { row, secret } =
      given === undefined ? this.secrets.generate(trigger.id, now) : this.secrets.sealGiven(trigger.id, given, now);
    if (!(await this.triggers.insertWithSecret(trigger, row))) throw triggerExists();
    this.changes.publish({ workflowId, slug: trigger.slug });
    return toCreatedWebhookTriggerResponse(trigger, secret, this.config.publicBaseUrl);
  }

  async get(workflowId: string): Promise<WebhookTriggerResponse> {
    return toWebhookTriggerResponse(await this.find(workflowId), this.config.publicBaseUrl);
  }

  async update(workflowId: string, dto: UpdateWebhookTriggerDto): Promise<WebhookTriggerResponse> {
    if (typeof dto.filter === 'string') checkFilter(dto.filter);
    const trigger = await this.find(workflowId);
    const now = new Date();
    const scheme = schemeNamed(dto.scheme ?? trigger.scheme);
    const schemeChanged = scheme.name !== trigger.scheme;
    // A new scheme starts from its own options: the old scheme's would not mean the same thing.
    const options = dto.options !== undefined || schemeChanged ? checkedOptions(scheme, dto.options) : undefined;
    let replacement: TriggerSecret | undefined;
    if (dto.secret !== undefined) {
      checkSecret(scheme, dto.secret);
      replacement = this.secrets.sealGiven(trigger.id, dto.secret, now).row;
    } else if (schemeChanged) {
      await this.assertSecretsFit(trigger.id, scheme, now);
    }
    const changes = {
      enabled: dto.enabled,
      toleranceSeconds: dto.toleranceSeconds,
      scheme: schemeChanged ? scheme.name : undefined,
      options,
      filter: dto.filter,
    };
    await this.triggers.update(trigger.id, changes, now, replacement);
    this.changes.publish({ workflowId, slug: trigger.slug });
    return this.get(workflowId);
  }

  async delete(workflowId: string): Promise<void> {
    const trigger = await this.find(workflowId);
    await this.triggers.delete(trigger.id);
    this.changes.publish({ workflowId, slug: trigger.slug });
    // Its log goes with it; rows a failure here leaves behind belong to no trigger and are pruned in time.
    await this.deliveries.deleteForTrigger(trigger.id);
  }

  async rotateSecret(workflowId: string, dto: RotateSecretDto): Promise<RotatedSecretResponse> {
    const trigger = await this.find(workflowId);
    const given = givenOrGeneratedSecret(schemeNamed(trigger.scheme), dto.secret);
    const rotated = await this.secrets.rotate(
      trigger.id,
      dto.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS,
      new Date(),
      given,
    );
    this.changes.publish({ workflowId, slug: trigger.slug });
    return { secret: rotated.secret, previousSecretExpiresAt: rotated.previousSecretExpiresAt.toISOString() };
  }

  async find(workflowId: string): Promise<WebhookTrigger> {
    await this.workflows.assertExists(workflowId);
    const trigger = await this.triggers.findByWorkflow(workflowId);
    if (!trigger) throw new NotFoundError('webhook trigger', undefined, 'trigger_not_found');
    return trigger;
  }

  /** Kept secrets must suit the new scheme (a GitHub secret is no Standard Webhooks `whsec_` key). */
  private async assertSecretsFit(triggerId: string, scheme: WebhookScheme, now: Date): Promise<void> {
    let fit: boolean;
    try {
      fit = (await this.secrets.openUnexpired(triggerId, now)).every((open) => secretFits(scheme, open.secret));
    } catch (error) {
      if (!(error instanceof SecretDecryptionError)) throw error;
      fit = false;
    }
    if (!fit) {
      throw invalid(
        'secret',
        `The trigger's secrets cannot be used with the ${scheme.name} scheme: give the new secret with the change`,
      );
    }
  }
}

function triggerExists(): ConflictError {
  return new ConflictError('trigger_exists', 'This workflow already has a webhook trigger: rotate its secret instead');
}
