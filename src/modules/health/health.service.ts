import { InjectQueue } from '@nestjs/bullmq';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import type { DataSource } from 'typeorm';

import { UnavailableError } from '../../common/domain.error.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { createRedisClient } from '../../queue/redis-client.factory.js';
import { RUNS_QUEUE } from '../runs/runs.queue.js';
import type { HealthResponse } from './health.dto.js';
import { evictionPolicyProblem, readEvictionPolicy } from './redis-eviction-policy.check.js';

// The checks run at once, so that a stalled dependency delays readiness by this at most.
const CHECK_TIMEOUT_MS = 1500;

@Injectable()
export class HealthService implements OnModuleDestroy {
  private readonly redis: Redis | Cluster | null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectQueue(RUNS_QUEUE) private readonly queue: Queue,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.redis =
      config.queueBackend === 'redis'
        ? // No retries per command: while Redis is away, probes fail at once instead of piling up.
          createRedisClient(config, {
            lazyConnect: true,
            maxRetriesPerRequest: 0,
            connectionName: 'hookrun-health',
            // A cluster holds commands until it knows its slots, whatever the retries: it connects now instead,
            // and refuses probes while it is not ready.
            ...(config.redisCluster ? { lazyConnect: false, enableOfflineQueue: false } : {}),
          })
        : null;
    // Reachability is the queue check's to report; without a listener ioredis prints every error.
    this.redis?.on('error', () => undefined);
  }

  async ready(): Promise<HealthResponse> {
    const [database, queue, evictionPolicy] = await Promise.all([
      check(async () => {
        await this.dataSource.query('SELECT 1');
      }),
      check(async () => {
        await this.queue.getJobCounts('waiting');
      }),
      this.evictionPolicyProblem(),
    ]);
    const down = Object.entries({ database, queue }).filter(([, ok]) => !ok);
    const problems = down.length > 0 ? [`${down.map(([name]) => name).join(' and ')} unreachable`] : [];
    if (evictionPolicy) problems.push(evictionPolicy);
    if (problems.length > 0) throw new UnavailableError(`Not ready: ${problems.join('; ')}`, 5);
    return { status: 'ok', checks: { database: 'ok', queue: 'ok' } };
  }

  async onModuleDestroy(): Promise<void> {
    this.redis?.disconnect();
  }

  private async evictionPolicyProblem(): Promise<string | null> {
    const redis = this.redis;
    if (!redis) return null;
    let problem: string | null = null;
    await check(async () => {
      problem = evictionPolicyProblem(await readEvictionPolicy(redis));
    });
    return problem;
  }
}

async function check(probe: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([probe().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
