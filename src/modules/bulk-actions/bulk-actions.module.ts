import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { queueConnection } from '../../queue/queue.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { BulkAction } from './bulk-action.entity.js';
import { BulkActionsController } from './bulk-actions.controller.js';
import { BulkActionsProducer } from './bulk-actions.producer.js';
import { BULK_ACTIONS_QUEUE } from './bulk-actions.queue.js';
import { BulkActionsRepository } from './bulk-actions.repository.js';
import { BulkActionsService } from './bulk-actions.service.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([BulkAction]),
    BullModule.registerQueueAsync({
      name: BULK_ACTIONS_QUEUE,
      inject: [APP_CONFIG],
      // As the runs queue: an enqueue fails at once while Redis is away, and the sweep takes the action up.
      useFactory: (config: AppConfig) => ({ connection: { ...queueConnection(config), enableOfflineQueue: false } }),
    }),
    RunsModule,
  ],
  controllers: [BulkActionsController],
  providers: [BulkActionsRepository, BulkActionsService, BulkActionsProducer],
  exports: [BulkActionsRepository],
})
export class BulkActionsModule {}
