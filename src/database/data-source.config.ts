import { DataSource, type DataSourceOptions, type QueryRunner } from 'typeorm';

import { DATABASE_TIMEOUTS, type DatabaseTimeouts } from './database-timeouts.config.js';
import { ApiKey } from '../modules/api-keys/api-key.entity.js';
import { BulkAction } from '../modules/bulk-actions/bulk-action.entity.js';
import { WorkflowRunStep } from '../modules/runs/workflow-run-step.entity.js';
import { WorkflowRun } from '../modules/runs/workflow-run.entity.js';
import { StepSecret } from '../modules/secrets/step-secret.entity.js';
import { TriggerSecret } from '../modules/secrets/trigger-secret.entity.js';
import { WebhookDelivery } from '../modules/webhooks/deliveries/webhook-delivery.entity.js';
import { WebhookTrigger } from '../modules/webhooks/webhook-trigger.entity.js';
import { WorkflowVersion } from '../modules/workflows/workflow-version.entity.js';
import { Workflow } from '../modules/workflows/workflow.entity.js';
import { InitialSchema1764216000000 } from './migrations/1764216000000-initial-schema.js';
import { RunScheduling1764216100000 } from './migrations/1764216100000-run-scheduling.js';
import { LeanRunInserts1764216400000 } from './migrations/1764216400000-lean-run-inserts.js';
import { LeanDeliveryLog1764216500000 } from './migrations/1764216500000-lean-delivery-log.js';
import { AcceptedDeliveriesInRuns1764216600000 } from './migrations/1764216600000-accepted-deliveries-in-runs.js';
import { HotRunClaims1764216700000 } from './migrations/1764216700000-hot-run-claims.js';
import { RunConsoleQueries1764216800000 } from './migrations/1764216800000-run-console-queries.js';
import { TriggerFilters1764216900000 } from './migrations/1764216900000-trigger-filters.js';
import { BulkActions1764217100000 } from './migrations/1764217100000-bulk-actions.js';
import { FlowControl1764217200000 } from './migrations/1764217200000-flow-control.js';
import { RunRetention1764217300000 } from './migrations/1764217300000-run-retention.js';
import { ConcurrencyAdmission1764217350000 } from './migrations/1764217350000-concurrency-admission.js';
import { StepSecrets1764217400000 } from './migrations/1764217400000-step-secrets.js';
import { Notifications1764217500000 } from './migrations/1764217500000-notifications.js';
import { TriggerOptionsAndDeliveries1764216300000 } from './migrations/1764216300000-trigger-options-and-deliveries.js';

const ENTITIES = [
  ApiKey,
  Workflow,
  WorkflowVersion,
  WebhookTrigger,
  TriggerSecret,
  WorkflowRun,
  WorkflowRunStep,
  WebhookDelivery,
  BulkAction,
  StepSecret,
];
export const MIGRATIONS = [
  InitialSchema1764216000000,
  RunScheduling1764216100000,
  TriggerOptionsAndDeliveries1764216300000,
  LeanRunInserts1764216400000,
  LeanDeliveryLog1764216500000,
  AcceptedDeliveriesInRuns1764216600000,
  HotRunClaims1764216700000,
  RunConsoleQueries1764216800000,
  TriggerFilters1764216900000,
  BulkActions1764217100000,
  FlowControl1764217200000,
  RunRetention1764217300000,
  ConcurrencyAdmission1764217350000,
  StepSecrets1764217400000,
  Notifications1764217500000,
];

export function dataSourceOptions(
  databaseUrl: string,
  poolSize = 20,
  timeouts: DatabaseTimeouts = DATABASE_TIMEOUTS,
): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    extra: { max: poolSize, application_name: 'hookrun', ...timeouts },
  };
}

const MIGRATION_LOCK_ID = 7_201_552_817;

async function tryLock(lock: QueryRunner): Promise<boolean> {
  const [row] = (await lock.query('SELECT pg_try_advisory_lock($1) AS taken', [MIGRATION_LOCK_ID])) as {
    taken: boolean;
  }[];
  return row.taken;
}

/** Under an advisory lock, so that several processes may start at once. */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  // A migration may rewrite a large table: no statement limit, only the connection's.
  const dataSource = new DataSource(
    dataSourceOptions(databaseUrl, 2, { connectionTimeoutMillis: 10_000, keepAlive: true }),
  );
  await dataSource.initialize();
  // The lock is held by one session, so it takes and releases through its own query runner.
  const lock = dataSource.createQueryRunner();
  try {
    await lock.connect();
    // Polled, not waited on: a session blocked in pg_advisory_lock holds a snapshot, and CREATE INDEX CONCURRENTLY
    // in the migrating session would wait for that snapshot forever.
    while (!(await tryLock(lock))) await new Promise((resolve) => setTimeout(resolve, 250));
    try {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  } finally {
    await lock.release();
    await dataSource.destroy();
  }
}
