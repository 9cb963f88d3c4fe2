import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { expectError } from '../support/expect-error.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { ProcessClient } from '../support/process-client.js';
import { freePort, logMessages, runHookrunToExit, startHookrun } from '../support/processes.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { startTestApp, testQueuePrefix, type TestApp } from '../support/test-app.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

/** What a start that must fail has to look like: exit code 1, one log line saying why, no stack trace. */
function expectOneLineRefusal(result: { code: number | null; output: string }, line: string): void {
  expect(result.code).toBe(1);
  const refusals = logMessages(result.output).filter((m) => m.startsWith('hookrun cannot start:'));
  expect(refusals.map((m) => m.split('\n')[0])).toEqual([line]);
  expect(result.output).not.toMatch(/^\s+at /m);
  expect(result.output).not.toMatch(/\\n\s+at /);
}

const processEnv = (redisUrl: string) => ({
  DATABASE_URL: TEST_DATABASE_URL,
  REDIS_URL: redisUrl,
  SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
  BOOTSTRAP_API_KEY: TEST_API_KEY,
  LOG_LEVEL: 'info',
});

/** Redis servers of the tests' own: their policy is changed, and the developer's Redis is never touched. */
describe("Redis's eviction policy", () => {
  const redisServers: OwnRedis[] = [];
  const ownRedis = async (args: string[] = []): Promise<OwnRedis> => {
    const redis = await startOwnRedis(args);
    redisServers.push(redis);
    return redis;
  };

  afterAll(async () => {
    for (const redis of redisServers) await redis.stop();
  });

  it.each(['worker', 'api'])('keeps the %s role from starting unless the policy is noeviction', async (role) => {
    const redis = await ownRedis(['--maxmemory-policy', 'allkeys-lru']);

    const env = { ...processEnv(redis.url), PORT: String(await freePort()) };
    const result = await runHookrunToExit([role], env, { timeoutMs: 30_000 });

    expectOneLineRefusal(
      result,
      "hookrun cannot start: Redis's maxmemory-policy is allkeys-lru; set it to noeviction (hookrun's queue needs " +
        'it: under any other policy a full Redis deletes queued jobs to make room)',
    );
    // Refused before the queue was touched: BullMQ wrote nothing.
    expect(await redis.client.dbsize()).toBe(0);
  });

  it('starts when Redis does not answer, takes deliveries, and is ready once Redis answers with its policy', async () => {
    const redis = await ownRedis(['--maxmemory-policy', 'noeviction']);
    const proxy = await FaultProxy.start(redis.url);
    await proxy.down();
    const env = { ...processEnv(proxy.url), PORT: String(await freePort()), QUEUE_PREFIX: testQueuePrefix() };
    const proc = await startHookrun(['api'], env, { waitFor: 'live' });
    try {
      expect(proc.output()).toMatch(
        /Redis \(REDIS_URL\) did not answer within 10 s \([^)]*ECONNRESET[^)]*\); its maxmemory-policy is checked once it does/,
      );
      const notReady = await fetch(`${proc.baseUrl}/health/ready`);
      expect(notReady.status).toBe(503);
      expect(((await notReady.json()) as { error: { message: string } }).error.message).toContain('queue unreachable');
      // Deliveries are stored without the queue.
      const client = new ProcessClient(proc.baseUrl);
      const webhook = await client.createWebhookWorkflow();
      expect((await client.deliver(webhook, { n: 1 }, 'msg_no_redis_yet')).status).toBe(202);

      await proxy.up();
      await waitUntil(async () => (await fetch(`${proc.baseUrl}/health/ready`)).ok, 30_000, 'readiness with Redis');
    } finally {
      await proc.stop('SIGKILL');
      await proxy.stop();
    }
  });

  describe('while running', () => {
    let redis: OwnRedis;
    let t: TestApp;

    beforeAll(async () => {
      redis = await ownRedis(['--maxmemory-policy', 'noeviction']);
      t = await startTestApp({ worker: true, env: { REDIS_URL: redis.url } });
    });

    afterAll(async () => {
      await t?.close();
    });

    it('turns /health/ready 503, naming the policy, when it changes, and 200 once it is noeviction again', async () => {
      expect((await t.http().get('/health/ready')).status).toBe(200);

      await redis.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const evicting = await t.http().get('/health/ready');
      expectError(evicting, 503, 'unavailable');
      expect(evicting.body.error.message).toContain("Redis's maxmemory-policy is allkeys-lru; set it to noeviction");
      expect(evicting.headers['retry-after']).toBeDefined();

      await redis.client.config('SET', 'maxmemory-policy', 'noeviction');
      expect((await t.http().get('/health/ready')).body).toEqual({
        data: { status: 'ok', checks: { database: 'ok', queue: 'ok' } },
      });
    });
  });
});

describe('a PORT in use', () => {
  let redis: OwnRedis;

  beforeAll(async () => {
    await ensureTestDatabase();
    redis = await startOwnRedis();
  });

  afterAll(async () => {
    await redis?.stop();
  });

  it('ends a start with DATABASE_URL and REDIS_URL with one line naming PORT and exit code 1', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    try {
      const result = await runHookrunToExit(
        [],
        { ...processEnv(redis.url), PORT: String(port) },
        { timeoutMs: 30_000 },
      );

      expectOneLineRefusal(result, `hookrun cannot start: PORT ${port} is in use on 127.0.0.1`);
      // The port was found taken at listen(), after the application had been built.
      expect(result.output).toContain('Nest application successfully started');
    } finally {
      taken.close();
    }
  });
});

describe('an invalid LOG_LEVEL', () => {
  it('ends the start with the configuration error and exit code 1, not a stack trace', async () => {
    const result = await runHookrunToExit(
      [],
      { ...processEnv('redis://127.0.0.1:1'), LOG_LEVEL: 'verbose', PORT: String(await freePort()) },
      { timeoutMs: 30_000 },
    );

    expectOneLineRefusal(result, 'hookrun cannot start: Invalid configuration:');
    expect(logMessages(result.output)).toContain(
      'hookrun cannot start: Invalid configuration:\n  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    );
  });
});
