import { BullModule, Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';
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
import { RunsRepository } from './runs.repository.js';
import { RunsService } from './runs.service.js';
import { WorkflowRunStep } from './workflow-run-step.entity.js';
import { WorkflowRun } from './workflow-run.entity.js';

/** Runs and their queue. The processor (a BullMQ worker) is only there in processes that run workers. */
@Module({})
export class RunsModule {
  /** `redisUrl` null: the queue runs on PostgreSQL (local mode), whose backend brings its own connection. */
  static forRoot(options: {
    worker: boolean;
    concurrency: number;
    lockMs: number;
    redisUrl: string | null;
  }): DynamicModule {
    if (options.worker) {
      // The decorator applied here rather than on the class, so that its worker options come from config.
      Processor(RUNS_QUEUE, {
        concurrency: options.concurrency,
        lockDuration: options.lockMs,
        stalledInterval: options.lockMs,
        maxStalledCount: 2,
        // Workers keep a plain connection (it blocks waiting for jobs); only the producer's pipelines.
        ...(options.redisUrl !== null && { connection: { url: options.redisUrl } }),
      })(RunsProcessor);
    }
    return {
      module: RunsModule,
      imports: [
        TypeOrmModule.forFeature([WorkflowRun, WorkflowRunStep]),
        // The producer's connection sends the adds of all deliveries answered in one turn of the event
        // loop in one write (ioredis auto-pipelining): about one system call fewer per delivery.
        BullModule.registerQueue({
          name: RUNS_QUEUE,
          ...(options.redisUrl !== null && { connection: { url: options.redisUrl, enableAutoPipelining: true } }),
        }),
        WorkflowsModule,
        ApiKeysModule,
      ],
      controllers: [RunsController],
      providers: [
        RunsRepository,
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
