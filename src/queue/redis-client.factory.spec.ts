import { afterEach, describe, expect, it } from '@jest/globals';
import { RedisConnection, type ConnectionOptions } from 'bullmq';
import { Cluster, Redis } from 'ioredis';

import type { RedisClusterConfig } from '../config/app.config.js';
import {
  bullmqConnection,
  createRedisClient,
  createRedisCluster,
  redisVariable,
  useRedisClusterForBullmq,
} from './redis-client.factory.js';

const CLUSTER: RedisClusterConfig = {
  nodes: [
    { host: '10.0.0.1', port: 7000 },
    { host: '10.0.0.2', port: 7001 },
  ],
  username: null,
  password: null,
  tls: false,
};

// Every client here is lazy: built and inspected, never connected (unit tests have no Redis).
describe('Redis clients', () => {
  const clients: (Redis | Cluster)[] = [];
  const keep = <T extends Redis | Cluster>(client: T): T => {
    clients.push(client);
    return client;
  };

  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
    RedisConnection.clientFactory = undefined;
  });

  it('are a single-server client for REDIS_URL and a cluster client for REDIS_CLUSTER_NODES', () => {
    const single = keep(
      createRedisClient({ redisUrl: 'redis://127.0.0.1:6390', redisCluster: null }, { lazyConnect: true }),
    );
    const cluster = keep(createRedisClient({ redisUrl: null, redisCluster: CLUSTER }, { lazyConnect: true }));

    expect(single).toBeInstanceOf(Redis);
    expect(cluster).toBeInstanceOf(Cluster);
    expect(redisVariable({ redisUrl: 'redis://x', redisCluster: null })).toBe('REDIS_URL');
    expect(redisVariable({ redisUrl: null, redisCluster: CLUSTER })).toBe('REDIS_CLUSTER_NODES');
  });

  it("give a cluster its own options and each node's connection the rest, with the credentials and TLS", () => {
    const cluster = keep(
      createRedisCluster(
        { ...CLUSTER, username: 'hookrun', password: 'secret', tls: true },
        {
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: null,
          connectionName: 'bull:worker',
          host: '127.0.0.1',
          port: 6379,
          retryStrategy: () => 1000,
        },
      ),
    );

    expect(cluster.options).toEqual(expect.objectContaining({ lazyConnect: true, enableOfflineQueue: false }));
    expect(cluster.options.clusterRetryStrategy?.(3)).toBe(1000);
    expect(cluster.options.redisOptions).toEqual({
      maxRetriesPerRequest: null,
      connectionName: 'bull:worker',
      username: 'hookrun',
      password: 'secret',
      tls: {},
    });
    // With TLS, node names reach the connection unresolved, so that the certificate's name can match.
    let resolved: string | undefined;
    cluster.options.dnsLookup?.('redis-a.internal', (_error, address) => (resolved = address));
    expect(resolved).toBe('redis-a.internal');
  });

  it("make BullMQ build a cluster client from the queue's connection options, and its usual client otherwise", () => {
    useRedisClusterForBullmq();
    const factory = RedisConnection.clientFactory!;
    const clusterOptions = bullmqConnection({ redisUrl: null, redisCluster: CLUSTER, databaseUrl: 'postgres://db' });
    // What BullMQ hands the factory: the options, with its defaults, and `maxRetriesPerRequest: null` for a worker.
    const forWorker = {
      port: 6379,
      host: '127.0.0.1',
      ...clusterOptions,
      maxRetriesPerRequest: null,
      lazyConnect: true,
    };

    const cluster = keep(factory(forWorker) as unknown as Cluster);
    expect(cluster.isCluster).toBe(true);
    expect(cluster.options.redisOptions).toEqual({ maxRetriesPerRequest: null });
    expect(cluster.options.lazyConnect).toBe(true);

    const singleOptions: ConnectionOptions = bullmqConnection({
      redisUrl: 'redis://127.0.0.1:6390',
      redisCluster: null,
      databaseUrl: 'postgres://db',
    });
    expect(singleOptions).toEqual({ url: 'redis://127.0.0.1:6390' });
    const single = keep(factory({ ...singleOptions, lazyConnect: true }) as unknown as Redis);
    expect(single.isCluster).toBe(false);
    expect(single.options).toEqual(expect.objectContaining({ port: 6390, host: '127.0.0.1' }));
  });
});
