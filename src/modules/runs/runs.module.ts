import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { queueConnection } from '../../queue/queue.module.js';
import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { FlowControlRepository } from './flow-control.repository.js';
import { FlowControlService } from './flow-control.service.js';
import { RunClaimsRepository } from './run-claims.repository.js';
import { RunCommandsService } from './run-commands.service.js';
import { RunListsService } from './run-lists.service.js';
import { RunWaitersRegistry } from './run-waiters.registry.js';
import { RunsController } from './runs.controller.js';
import { RunsProducer } from './runs.producer.js';
import { RUNS_QUEUE } from './runs.queue.js';
import { RunsReconciler } from './runs.reconciler.js';
import { RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';
import { WebhookRunsRepository } from './webhook-runs.repository.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';
import { WorkflowRun } from './workflow-run.entity.js';

@Module({
  imports: [
    TypeOrmModule.forFeature([WorkflowRun, WorkflowRunStep]),
    BullModule.registerQueueAsync({
      name: RUNS_QUEUE,
      inject: [APP_CONFIG],
      // Enqueueing fails at once while Redis is unreachable instead of waiting in ioredis' offline queue:
      // the run is stored, and the reconciler enqueues it once Redis is back.
      useFactory: (config: AppConfig) => ({ connection: { ...queueConnection(config), enableOfflineQueue: false } }),
    }),
    WorkflowsModule,
    ApiKeysModule,
  ],
  controllers: [RunsController],
  providers: [
    RunsRepository,
    WebhookRunsRepository,
    RunClaimsRepository,
    RunsService,
    RunCommandsService,
    RunListsService,
    RunsProducer,
    RunsReconciler,
    RunWaitersRegistry,
    FlowControlRepository,
    FlowControlService,
  ],
  exports: [
    RunsService,
    RunsReconciler,
    RunsProducer,
    RunClaimsRepository,
    RunWaitersRegistry,
    RunsRepository,
    RunCommandsService,
    FlowControlService,
  ],
})
export class RunsModule {}
