import { BullModule } from '@nestjs/bullmq';
import { type DynamicModule, Module } from '@nestjs/common';

import { CommonModule } from './common/common.module.js';
import type { AppConfig } from './config/app.config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { RunsModule } from './modules/runs/runs.module.js';
import { SecretsModule } from './modules/secrets/secrets.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';
import { WorkflowsModule } from './modules/workflows/workflows.module.js';

export interface AppModuleOptions {
  /** Run BullMQ workers in this process. */
  worker: boolean;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions): DynamicModule {
    const connection = { url: config.redisUrl ?? config.databaseUrl };
    const runs = RunsModule.forRoot({
      worker: options.worker,
      concurrency: config.workerConcurrency,
      lockMs: config.workerLockMs,
      // Enqueueing fails at once while Redis is unreachable instead of waiting in ioredis' offline queue:
      // the run is stored, and the reconciler enqueues it once Redis is back.
      queueConnection: { ...connection, enableOfflineQueue: false },
    });
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        DatabaseModule.forRoot(config),
        // On the PostgreSQL backend the connection is the database's, set process-wide (src/local).
        BullModule.forRoot({ connection, prefix: config.queuePrefix }),
        // First, so that its routes come first in express's router: a webhook, the busiest request, is
        // matched against the fewest route patterns.
        WebhooksModule.forRoot(runs),
        ApiKeysModule,
        WorkflowsModule,
        SecretsModule,
        runs,
        HealthModule,
      ],
    };
  }
}
