import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { WebhookDeliveriesController } from './deliveries/webhook-deliveries.controller.js';
import { WebhookDeliveriesPruner } from './deliveries/webhook-deliveries.pruner.js';
import { WebhookDeliveriesRecorder } from './deliveries/webhook-deliveries.recorder.js';
import { WebhookDeliveriesRepository } from './deliveries/webhook-deliveries.repository.js';
import { WebhookDeliveriesService } from './deliveries/webhook-deliveries.service.js';
import { WebhookDeliveryLogMiddleware } from './deliveries/webhook-delivery-log.middleware.js';
import { TriggerCache } from './trigger.cache.js';
import { TriggerFilterEvaluator } from './trigger-filter.evaluator.js';
import { TriggerRateLimiter } from './trigger-rate.limiter.js';
import { WebhookSignatureGuard } from './webhook-signature.guard.js';
import { WebhookTrigger } from './webhook-trigger.entity.js';
import { WebhookTriggersController } from './webhook-triggers.controller.js';
import { WebhookTriggersService } from './webhook-triggers.service.js';
import { WebhookTestDeliveryService } from './webhook-test-delivery.service.js';
import { WebhookVerificationService } from './webhook-verification.service.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksService } from './webhooks.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([WebhookTrigger]), ApiKeysModule, WorkflowsModule, SecretsModule, RunsModule],
  controllers: [WebhooksController, WebhookTriggersController, WebhookDeliveriesController],
  providers: [
    WebhookTriggersService,
    TriggerCache,
    TriggerFilterEvaluator,
    TriggerRateLimiter,
    WebhookVerificationService,
    WebhookSignatureGuard,
    WebhooksService,
    WebhookTestDeliveryService,
    WebhookDeliveriesRepository,
    WebhookDeliveriesRecorder,
    WebhookDeliveriesPruner,
    WebhookDeliveriesService,
    WebhookDeliveryLogMiddleware,
  ],
})
export class WebhooksModule {}
