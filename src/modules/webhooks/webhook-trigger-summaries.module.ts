import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { WORKFLOW_TRIGGER_SUMMARIES } from '../workflows/workflow-triggers.port.js';
import { WebhookTrigger } from './webhook-trigger.entity.js';
import { WebhookTriggersRepository } from './webhook-triggers.repository.js';

/**
 * The triggers' repository, global so that the workflows module (which webhooks imports) can ask for trigger
 * summaries without importing webhooks.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([WebhookTrigger])],
  providers: [
    WebhookTriggersRepository,
    { provide: WORKFLOW_TRIGGER_SUMMARIES, useExisting: WebhookTriggersRepository },
  ],
  exports: [WORKFLOW_TRIGGER_SUMMARIES, WebhookTriggersRepository],
})
export class WebhookTriggerSummariesModule {}
