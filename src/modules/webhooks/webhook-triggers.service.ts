import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';

import { ChangeFeed } from '../../common/change-feed.js';
import { ConflictError, NotFoundError } from '../../common/errors.js';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { generateSlug } from '../secrets/secret-generator.js';
import { DEFAULT_GRACE_PERIOD_SECONDS, TriggerSecretsService } from '../secrets/trigger-secrets.service.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  toCreatedWebhookTriggerResponse,
  toWebhookTriggerResponse,
  type CreatedWebhookTriggerResponse,
  type CreateWebhookTriggerDto,
  type RotatedSecretResponse,
  type UpdateWebhookTriggerDto,
  type WebhookTriggerResponse,
} from './dto/webhook-trigger.dto.js';
import type { WebhookTrigger } from './webhook-trigger.entity.js';
import { WebhookTriggersRepository } from './webhook-triggers.repository.js';

/** A workflow's webhook trigger: its slug, scheme, tolerance and (through the secrets module) its secrets. */
@Injectable()
export class WebhookTriggersService {
  constructor(
    private readonly triggers: WebhookTriggersRepository,
    private readonly secrets: TriggerSecretsService,
    private readonly workflows: WorkflowsService,
    private readonly changes: ChangeFeed,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async create(workflowId: string, dto: CreateWebhookTriggerDto): Promise<CreatedWebhookTriggerResponse> {
    await this.workflows.assertExists(workflowId);
    const now = new Date();
    const trigger: WebhookTrigger = {
      id: uuidv7(),
      workflowId,
      slug: generateSlug(),
      scheme: dto.scheme ?? 'standard-webhooks',
      enabled: true,
      toleranceSeconds: dto.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
      createdAt: now,
      updatedAt: now,
    };
    const { row, secret } = this.secrets.generate(trigger.id, now);
    if (!(await this.triggers.insertWithSecret(trigger, row))) throw triggerExists();
    this.changes.publish({ workflowId, slug: trigger.slug });
    return toCreatedWebhookTriggerResponse(trigger, secret, this.config.publicBaseUrl);
  }

  async get(workflowId: string): Promise<WebhookTriggerResponse> {
    return toWebhookTriggerResponse(await this.find(workflowId), this.config.publicBaseUrl);
  }

  async update(workflowId: string, dto: UpdateWebhookTriggerDto): Promise<WebhookTriggerResponse> {
    const trigger = await this.find(workflowId);
    const now = new Date();
    const changes = { enabled: dto.enabled, toleranceSeconds: dto.toleranceSeconds, scheme: dto.scheme };
    await this.triggers.update(trigger.id, changes, now);
    this.changes.publish({ workflowId, slug: trigger.slug });
    return this.get(workflowId);
  }

  async delete(workflowId: string): Promise<void> {
    const trigger = await this.find(workflowId);
    await this.triggers.delete(trigger.id);
    this.changes.publish({ workflowId, slug: trigger.slug });
  }

  async rotateSecret(workflowId: string, gracePeriodSeconds?: number): Promise<RotatedSecretResponse> {
    const trigger = await this.find(workflowId);
    const rotated = await this.secrets.rotate(
      trigger.id,
      gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS,
      new Date(),
    );
    this.changes.publish({ workflowId, slug: trigger.slug });
    return { secret: rotated.secret, previousSecretExpiresAt: rotated.previousSecretExpiresAt.toISOString() };
  }

  private async find(workflowId: string): Promise<WebhookTrigger> {
    await this.workflows.assertExists(workflowId);
    const trigger = await this.triggers.findByWorkflow(workflowId);
    if (!trigger) throw new NotFoundError('webhook trigger', undefined, 'trigger_not_found');
    return trigger;
  }
}

function triggerExists(): ConflictError {
  return new ConflictError('trigger_exists', 'This workflow already has a webhook trigger: rotate its secret instead');
}
