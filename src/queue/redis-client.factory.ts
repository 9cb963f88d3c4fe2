import { createIORedisClient, RedisConnection, type ConnectionOptions, type IRedisClient } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

import type { AppConfig, RedisClusterConfig } from '../config/app.config.js';

/** Which Redis hookrun uses: one server (REDIS_URL) or a cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = Pick<AppConfig, 'redisUrl' | 'redisCluster'>;

/** The variable an operator set, for messages about the Redis it names. */
export function redisVariable(target: RedisTarget): string {
  return target.redisCluster ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
}

/** A client of hookrun's Redis for its own commands (health, start checks); options as for a single server. */
export function createRedisClient(target: RedisTarget, options: RedisOptions = {}): Redis | Cluster {
  if (target.redisCluster) return createRedisCluster(target.redisCluster, options);
  if (!target.redisUrl) throw new Error('No Redis is configured');
  return new Redis(target.redisUrl, options);
}

/**
 * A cluster client from single-server options: the offline queue, lazy connection and retry strategy are the
 * cluster's (it reconnects its nodes itself), the rest applies to its connection to each node (but the address).
 */
export function createRedisCluster(cluster: RedisClusterConfig, options: RedisOptions): Cluster {
  const { enableOfflineQueue, lazyConnect, retryStrategy, host: _host, port: _port, ...nodeOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...nodeOptions,
      ...(cluster.username ? { username: cluster.username } : {}),
      ...(cluster.password ? { password: cluster.password } : {}),
      ...(cluster.tls ? { tls: {} } : {}),
    },
  };
  if (enableOfflineQueue !== undefined) clusterOptions.enableOfflineQueue = enableOfflineQueue;
  if (lazyConnect !== undefined) clusterOptions.lazyConnect = lazyConnect;
  // BullMQ's (1 s and up) instead of ioredis's cluster default (from 0.1 s): an unreachable cluster is not retried,
  // and reported, ten times a second.
  if (retryStrategy) clusterOptions.clusterRetryStrategy = (times) => retryStrategy(times);
  // ioredis resolves node names to addresses before connecting, and a certificate names the host: keep the name.
  if (cluster.tls) clusterOptions.dnsLookup = (address, callback) => callback(null, address);
  return new Cluster(cluster.nodes, clusterOptions);
}

// BullMQ turns `connection` options into clients itself (and closes them); a Cluster instance given instead would
// be shared, left open by every queue and worker. So the options carry the cluster, and this factory builds it.
const CLUSTER_OPTION = 'hookrunRedisCluster';

/** BullMQ's `connection` for hookrun's Redis: options, so that each Queue and Worker owns its clients. */
export function bullmqConnection(target: RedisTarget & Pick<AppConfig, 'databaseUrl'>): ConnectionOptions {
  if (target.redisCluster) return { [CLUSTER_OPTION]: target.redisCluster };
  // The PostgreSQL queue ignores it (its backend holds the connection).
  return { url: target.redisUrl ?? target.databaseUrl };
}

/** Process-wide, as BullMQ's client factory is; options without a cluster get BullMQ's usual client. */
export function useRedisClusterForBullmq(): void {
  RedisConnection.clientFactory = bullmqClient;
}

function bullmqClient(options: RedisOptions & { url?: string; [CLUSTER_OPTION]?: RedisClusterConfig }): IRedisClient {
  const { url, [CLUSTER_OPTION]: cluster, ...rest } = options;
  if (cluster) return createIORedisClient(createRedisCluster(cluster, rest));
  return createIORedisClient(url ? new Redis(url, rest) : new Redis(rest));
}
