import { BullModule, Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { TypeOrmModule } from '@nestjs/typeorm';

import { ApiKeysModule } from '../api-keys/api-keys.module.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { RunExecutor } from './run-executor.js';
import { RunsController } from './runs.controller.js';
import { RunsProcessor } from './runs.processor.js';
import { RunsProducer } from './runs.producer.js';
import { RUNS_QUEUE } from './runs.queue.js';
import { RunsReconciler } from './runs.reconciler.js';
import { RunsWorkers } from './runs-workers.js';
import { RunClaimsRepository } from './run-claims.repository.js';
import { RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';
import { WorkflowRun } from './workflow-run.entity.js';
import { WebhookRunsRepository } from './webhook-runs.repository.js';

/** Runs and their queue. The processor (a BullMQ worker) is only there in processes that run workers. */
@Module({})
export class RunsModule {
  static forRoot(options: {
    worker: boolean;
    concurrency: number;
    lockMs: number;
    queueConnection: ConnectionOptions;
  }): DynamicModule {
    if (options.worker) {
      // The decorator applied here rather than on the class, so that its worker options come from config.
      Processor(RUNS_QUEUE, {
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.lockMs,
        maxStalledCount: 2,
      })(RunsProcessor);
    }
    return {
      module: RunsModule,
      imports: [
        TypeOrmModule.forFeature([WorkflowRun, WorkflowRunStep]),
        BullModule.registerQueue({ name: RUNS_QUEUE, connection: options.queueConnection }),
        WorkflowsModule,
        ApiKeysModule,
      ],
      controllers: [RunsController],
      providers: [
        RunsRepository,
        WebhookRunsRepository,
        RunClaimsRepository,
        RunsService,
        RunsProducer,
        RunExecutor,
        RunsReconciler,
        RunsWorkers,
        ...(options.worker ? [RunsProcessor] : []),
      ],
      exports: [RunsService, RunsReconciler, RunsWorkers],
    };
  }
}
