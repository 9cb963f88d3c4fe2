import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';

import { APP_CONFIG, type AppConfig } from '../config/app.config.js';
import { usePostgresQueueBackend } from './postgres-queue.backend.js';
import { bullmqConnection, useRedisClusterForBullmq } from './redis-client.factory.js';

export function queueConnection(config: AppConfig): ConnectionOptions {
  return bullmqConnection(config);
}

@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig) => {
        // @nestjs/bullmq builds Queue and Worker without bullmq's backend-factory argument, so the backend
        // is chosen process-wide; every queue and worker depends on this configuration, so it comes first.
        if (config.queueBackend === 'postgres') await usePostgresQueueBackend(config.databaseUrl);
        if (config.redisCluster) useRedisClusterForBullmq();
        return { connection: queueConnection(config), prefix: config.queuePrefix };
      },
    }),
  ],
})
export class QueueModule {}
