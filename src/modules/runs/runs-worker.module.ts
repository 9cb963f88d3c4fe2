import { Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';

import type { AppConfig } from '../../config/app.config.js';
import { queueConnection } from '../../queue/queue.module.js';
import { SecretsModule } from '../secrets/secrets.module.js';
import { WorkflowsModule } from '../workflows/workflows.module.js';
import { RunExecutor } from './run.executor.js';
import { RunsModule } from './runs.module.js';
import { RunsProcessor } from './runs.processor.js';
import { RunRetentionRepository } from './run-retention.repository.js';
import { RunsPruner } from './runs.pruner.js';
import { RUNS_QUEUE } from './runs.queue.js';

export function runsWorkersEnabled(config: Pick<AppConfig, 'role'>): boolean {
  return config.role !== 'api';
}

@Module({})
export class RunsWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    // Declared here because its worker options come from config. The connection is named so that the worker
    // does not take the producer's, whose offline queue is off.
    @Processor(RUNS_QUEUE, {
      connection: queueConnection(config),
      concurrency: config.workerConcurrency,
      // BullMQ renews the lock every half lock; checking for expired ones as often bounds a crashed
      // worker's runs to about 1.5 locks before another worker resumes them.
      lockDuration: config.workerLockMs,
      stalledInterval: Math.max(1000, Math.round(config.workerLockMs / 2)),
      maxStalledCount: 2,
    })
    class ConfiguredRunsProcessor extends RunsProcessor {}

    return {
      module: RunsWorkerModule,
      imports: [RunsModule, WorkflowsModule, SecretsModule],
      // Retention runs where the work happens: API processes stay free for requests.
      providers: [
        RunExecutor,
        { provide: RunsProcessor, useClass: ConfiguredRunsProcessor },
        RunRetentionRepository,
        RunsPruner,
      ],
    };
  }
}
