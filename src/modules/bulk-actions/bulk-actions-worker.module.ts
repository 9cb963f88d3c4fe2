import { Processor } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';

import type { AppConfig } from '../../config/app.config.js';
import { queueConnection } from '../../queue/queue.module.js';
import { RunsModule } from '../runs/runs.module.js';
import { BulkActionRunner } from './bulk-action.runner.js';
import { BulkActionsModule } from './bulk-actions.module.js';
import { BulkActionsProcessor } from './bulk-actions.processor.js';
import { BULK_ACTIONS_QUEUE } from './bulk-actions.queue.js';
import { BulkActionsReconciler } from './bulk-actions.reconciler.js';

/** Bulk actions are worked off by the worker role only: the job and the sweep both end in BulkActionRunner. */
@Module({})
export class BulkActionsWorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    // One action at a time per process: a batch is already set-based, and other processes may join in.
    @Processor(BULK_ACTIONS_QUEUE, { connection: queueConnection(config), concurrency: 1 })
    class ConfiguredBulkActionsProcessor extends BulkActionsProcessor {}

    return {
      module: BulkActionsWorkerModule,
      imports: [BulkActionsModule, RunsModule],
      providers: [
        BulkActionRunner,
        BulkActionsReconciler,
        { provide: BulkActionsProcessor, useClass: ConfiguredBulkActionsProcessor },
      ],
    };
  }
}
