import { type DynamicModule, Module } from '@nestjs/common';

import { CommonModule } from './common/common.module.js';
import type { AppConfig } from './config/app.config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ApiKeysModule } from './modules/api-keys/api-keys.module.js';
import { BulkActionsWorkerModule } from './modules/bulk-actions/bulk-actions-worker.module.js';
import { BulkActionsModule } from './modules/bulk-actions/bulk-actions.module.js';
import { HealthModule } from './modules/health/health.module.js';
import { MetricsRegistryModule } from './modules/metrics/metrics-registry.module.js';
import { MetricsModule } from './modules/metrics/metrics.module.js';
import { NotificationsWorkerModule } from './modules/notifications/notifications-worker.module.js';
import { NotificationsModule } from './modules/notifications/notifications.module.js';
import { NotifyEndpointsModule } from './modules/notifications/notify-endpoints.module.js';
import { RunsWorkerModule, runsWorkersEnabled } from './modules/runs/runs-worker.module.js';
import { RunsModule } from './modules/runs/runs.module.js';
import { SecretsModule } from './modules/secrets/secrets.module.js';
import { StepSecretNamesModule } from './modules/secrets/step-secret-names.module.js';
import { WebhookTriggerSummariesModule } from './modules/webhooks/webhook-trigger-summaries.module.js';
import { WebhooksModule } from './modules/webhooks/webhooks.module.js';
import { WorkflowsModule } from './modules/workflows/workflows.module.js';
import { QueueModule } from './queue/queue.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        CommonModule,
        MetricsRegistryModule,
        DatabaseModule.forRoot(config),
        QueueModule,
        // First: its routes are the first of the controllers' that express tries, and webhooks are the busiest.
        WebhooksModule,
        WebhookTriggerSummariesModule,
        StepSecretNamesModule,
        ApiKeysModule,
        WorkflowsModule,
        SecretsModule,
        NotifyEndpointsModule,
        // Its routes before RunsModule's: `/v1/workflow-runs/bulk/...` is never read as a run id.
        BulkActionsModule,
        RunsModule,
        NotificationsModule,
        ...(runsWorkersEnabled(config)
          ? [RunsWorkerModule.forRoot(config), BulkActionsWorkerModule.forRoot(config), NotificationsWorkerModule]
          : []),
        HealthModule,
        MetricsModule,
      ],
    };
  }
}
