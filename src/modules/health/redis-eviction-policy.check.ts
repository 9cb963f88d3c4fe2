import { Cluster, type Redis } from 'ioredis';

import { createRedisClient, redisVariable, type RedisTarget } from '../../queue/redis-client.factory.js';

// Under any other policy a full Redis silently deletes jobs and locks; `INFO memory` works where `CONFIG GET` is refused.
const REQUIRED_EVICTION_POLICY = 'noeviction';

const START_CHECK_TIMEOUT_MS = 10_000;

export class RedisEvictionPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisEvictionPolicyError';
  }
}

export function parseEvictionPolicy(info: string): string | null {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? null;
}

/** A cluster's first policy that is not noeviction, of all its nodes: a replica takes over with its own. */
export async function readEvictionPolicy(redis: Redis | Cluster): Promise<string | null> {
  if (!(redis instanceof Cluster)) return parseEvictionPolicy(await redis.info('memory'));
  // Until it is ready, a cluster knows its startup nodes at most; with its offline queue on, this waits for it.
  if (redis.status !== 'ready') await redis.ping();
  const nodes = redis.nodes('all');
  if (nodes.length === 0) throw new Error('the cluster client knows no node');
  const policies = await Promise.all(nodes.map(async (node) => parseEvictionPolicy(await node.info('memory'))));
  const other = policies.find((policy) => policy !== REQUIRED_EVICTION_POLICY);
  return other === undefined ? REQUIRED_EVICTION_POLICY : other;
}

export function evictionPolicyProblem(policy: string | null): string | null {
  if (policy === REQUIRED_EVICTION_POLICY) return null;
  const why = `(hookrun's queue needs it: under any other policy a full Redis deletes queued jobs to make room)`;
  return policy === null
    ? `Redis's INFO memory does not show its maxmemory_policy; make sure it is ${REQUIRED_EVICTION_POLICY} ${why}`
    : `Redis's maxmemory-policy is ${policy}; set it to ${REQUIRED_EVICTION_POLICY} ${why}`;
}

// A Redis that does not answer in time does not stop the start: runs are enqueued once it is back.
export async function assertRedisKeepsEveryKey(
  target: RedisTarget,
  timeoutMs: number = START_CHECK_TIMEOUT_MS,
): Promise<string | null> {
  const redis = createRedisClient(target, {
    lazyConnect: true,
    connectionName: 'hookrun-start-check',
    // Retried until the deadline below: a Redis that is still starting gets its chance.
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  let lastError: Error | undefined;
  redis.on('error', (error: Error) => (lastError = error));
  let timer: NodeJS.Timeout | undefined;
  const unanswered = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      const why = lastError ? ` (${lastError.message})` : '';
      resolve(
        `Redis (${redisVariable(target)}) did not answer within ${timeoutMs / 1000} s${why}; its maxmemory-policy is checked once it does`,
      );
    }, timeoutMs);
  });
  try {
    const checked = readEvictionPolicy(redis).then(
      (policy) => {
        const problem = evictionPolicyProblem(policy);
        if (problem) throw new RedisEvictionPolicyError(problem);
        return null;
      },
      (error: unknown) => {
        throw new RedisEvictionPolicyError(
          `Redis refused INFO memory (${(error as Error).message}), so its maxmemory-policy could not be checked`,
        );
      },
    );
    return await Promise.race([checked, unanswered]);
  } finally {
    clearTimeout(timer);
    redis.disconnect();
  }
}
