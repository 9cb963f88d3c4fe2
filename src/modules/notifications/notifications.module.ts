import { Module } from '@nestjs/common';

import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { NotificationEventsRepository } from './notification-events.repository.js';
import { NotificationsController } from './notifications.controller.js';
import { NotificationsService } from './notifications.service.js';

@Module({
  imports: [WorkflowsModule, SecretsModule, ApiKeysModule],
  controllers: [NotificationsController],
  providers: [NotificationEventsRepository, NotificationsService],
  exports: [NotificationEventsRepository],
})
export class NotificationsModule {}
