import type { INestApplication } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type { DataSource } from 'typeorm';

import { createApp } from '../../src/app.lifecycle.js';
import { loadConfig, type AppConfig } from '../../src/config/app.config.js';
import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from './env.js';
import { ensureTestDatabase } from './test-database.js';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  db: DataSource;
  /** supertest against the app, without listening on a port. */
  http: () => ReturnType<typeof request>;
  /** Authorization header with the bootstrap API key. */
  auth: { Authorization: string };
  close: () => Promise<void>;
}

/** A queue prefix of a test's own: its keys are the only ones it deletes (`deleteQueueKeys`). */
export function testQueuePrefix(): string {
  return `hookrun-test-${randomBytes(4).toString('hex')}`;
}

/**
 * Boots the real application (same createApp as main.ts) against the real PostgreSQL and Redis. Each app
 * gets a queue prefix of its own, so test files never see each other's jobs; closing it deletes that prefix's keys
 * from the Redis it used (its REDIS_URL, which `env` may point at a redis-server of the test's own).
 */
export async function startTestApp(
  options: { worker?: boolean; env?: Record<string, string>; queuePrefix?: string; queueOnPostgres?: boolean } = {},
): Promise<TestApp> {
  const config = loadConfig(
    {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: options.queuePrefix ?? testQueuePrefix(),
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      PUBLIC_BASE_URL: 'http://hookrun.test',
      WORKER_CONCURRENCY: '5',
      ...options.env,
    },
    // Without workers, the process is what `node dist/main.js api` runs. The queue on PostgreSQL is the embedded
    // mode's: it is chosen process-wide (for every later app of the test file too).
    {
      role: options.worker === false ? 'api' : undefined,
      queueBackend: options.queueOnPostgres ? 'postgres' : 'redis',
    },
  );
  await ensureTestDatabase();
  const app = await createApp(config);
  await app.init();
  const db = app.get<DataSource>(getDataSourceToken());
  return {
    app,
    config,
    db,
    http: () => request(app.getHttpServer()),
    auth: { Authorization: `Bearer ${TEST_API_KEY}` },
    close: async () => {
      await app.close();
      if (config.redisUrl) await deleteQueueKeys(config.redisUrl, config.queuePrefix);
    },
  };
}

/** Empties every table, so that each test file starts from nothing. */
export async function resetDatabase(db: DataSource): Promise<void> {
  // The notification tables come first, in the order in which a worker's dispatcher locks them (events, endpoints,
  // then workflows): a dispatcher of the app under test may be claiming events meanwhile. A deadlock with some
  // other background statement is still possible, and is only a reason to try again.
  for (let attempt = 1; ; attempt++) {
    try {
      await db.query(
        // The delivery log has no foreign keys (so no CASCADE reaches it) and is named here: rows an earlier
        // run left behind would age past retention and be counted by a later run's pruning test.
        `TRUNCATE notification_attempts, notification_events, notify_endpoints, step_secrets, bulk_action_runs,
                  bulk_actions, workflow_run_steps, workflow_runs, webhook_deliveries, webhook_trigger_secrets,
                  webhook_triggers, workflow_versions, workflows, api_keys CASCADE`,
      );
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
    }
  }
}

/** Deletes the keys under `prefix:` and nothing else, from the Redis at `redisUrl`. */
export async function deleteQueueKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      // Glob characters in the prefix match literally: never a key of another prefix.
      const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
