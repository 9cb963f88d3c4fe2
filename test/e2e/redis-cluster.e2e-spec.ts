import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { ProcessClient, type ProcessWebhook } from '../support/process-client.js';
import { freePort, logMessages, runHookrunToExit, startHookrun, type HookrunProcess } from '../support/processes.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../support/redis-cluster.js';
import { ensureTestDatabase } from '../support/test-database.js';

/** The built app as separate API and worker processes on a 3-node Redis Cluster of the test's own. */
describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: OwnRedisCluster;
  let api: HookrunProcess | undefined;
  let worker: HookrunProcess | undefined;
  let client: ProcessClient;
  let webhook: ProcessWebhook;
  let env: Record<string, string>;
  let refusedWithBoth: Promise<{ code: number | null; output: string }>;

  beforeAll(async () => {
    const services = {
      DATABASE_URL: TEST_DATABASE_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      LOG_LEVEL: 'info',
    };
    // Refused before it connects to anything: it starts now, beside the rest, and its test reads the result.
    refusedWithBoth = runHookrunToExit(
      ['api'],
      {
        ...services,
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_CLUSTER_NODES: '127.0.0.1:7000',
        PORT: String(await freePort()),
      },
      { timeoutMs: 30_000 },
    );
    await ensureTestDatabase();
    cluster = await startOwnRedisCluster(3);
    env = { ...services, REDIS_CLUSTER_NODES: cluster.nodeList };
    [api, worker] = await Promise.all([startHookrun(['api'], env), startHookrun(['worker'], env)]);
    client = new ProcessClient(api.baseUrl);
    webhook = await client.createWebhookWorkflow();
  });

  afterAll(async () => {
    await Promise.all([api?.stop('SIGKILL'), worker?.stop('SIGKILL')]);
    await cluster?.stop();
  });

  /** One delivery, answered 202, whose run completes. */
  const deliverToCompletion = async (id: string) => {
    const accepted = await client.deliver(webhook, { id }, id);
    expect(accepted.status).toBe(202);
    const runId = accepted.body.data.runId as string;
    expect(await client.waitForTerminal([runId], 30_000)).toEqual(new Map([[runId, 'completed']]));
    return client.run(runId);
  };

  it('completes a delivery, with every key of the queue under the {hookrun} hash tag, in its one slot', async () => {
    const run = await deliverToCompletion('msg_cluster_1');
    expect(run.status).toBe('completed');

    const slot = await cluster.keySlot('{hookrun}');
    const owner = await cluster.ownerOf(slot);
    const keys = (await Promise.all(cluster.nodes.map((node) => cluster.keysOn(node)))).flat();
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter((key) => !key.startsWith('{hookrun}:'))).toEqual([]);
    expect((await cluster.keysOn(owner)).sort()).toEqual(keys.sort());
  });

  it('completes the next delivery after the slot has moved to another node', async () => {
    const slot = await cluster.keySlot('{hookrun}');
    const source = await cluster.ownerOf(slot);
    const target = cluster.nodes.find((node) => node !== source)!;

    await cluster.moveSlot(slot, target);
    expect(await cluster.keysOn(source)).toEqual([]);
    expect((await cluster.keysOn(target)).length).toBeGreaterThan(0);

    const run = await deliverToCompletion('msg_cluster_2');
    expect(run.status).toBe('completed');
    expect(await cluster.keysOn(source)).toEqual([]);
    // Nothing was refused on the way: no command of a script spanned two slots, none went to the wrong node for good.
    for (const proc of [api!, worker!]) expect(proc.output()).not.toMatch(/CROSSSLOT|MOVED|ClusterAllFailedError/);
  });

  it('completes every run of 20 deliveries sent while the slot moves again, one run each', async () => {
    const slot = await cluster.keySlot('{hookrun}');
    const source = await cluster.ownerOf(slot);
    const target = cluster.nodes.find((node) => node !== source)!;
    const ids = Array.from({ length: 20 }, (_, i) => `msg_cluster_moving_${i}`);

    const [answers] = await Promise.all([
      Promise.all(ids.map((id) => client.deliver(webhook, { id }, id))),
      cluster.moveSlot(slot, target),
    ]);

    expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 202));
    const runIds = answers.map((answer) => answer.body.data.runId as string);
    expect(new Set(runIds).size).toBe(ids.length);
    const statuses = await client.waitForTerminal(runIds, 45_000);
    expect([...statuses.values()]).toEqual(runIds.map(() => 'completed'));
    expect(await cluster.keysOn(source)).toEqual([]);
  });

  it("checks every node's eviction policy, at start and in /health/ready, not just the queue's node", async () => {
    const owner = await cluster.ownerOf(await cluster.keySlot('{hookrun}'));
    const other = cluster.nodes.find((node) => node !== owner)!;
    await other.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const notReady = await client.request('GET', '/health/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body.error.message).toContain("Redis's maxmemory-policy is allkeys-lru; set it to noeviction");

      const refused = await runHookrunToExit(
        ['worker'],
        { ...env, PORT: String(await freePort()) },
        { timeoutMs: 30_000 },
      );
      expect(refused.code).toBe(1);
      expect(logMessages(refused.output).filter((line) => line.startsWith('hookrun cannot start:'))).toEqual([
        "hookrun cannot start: Redis's maxmemory-policy is allkeys-lru; set it to noeviction (hookrun's queue needs " +
          'it: under any other policy a full Redis deletes queued jobs to make room)',
      ]);
    } finally {
      await other.client.config('SET', 'maxmemory-policy', 'noeviction');
    }
    expect((await client.request('GET', '/health/ready')).body).toEqual({
      data: { status: 'ok', checks: { database: 'ok', queue: 'ok' } },
    });
  });

  it('refuses a start with REDIS_URL as well, in one line', async () => {
    const result = await refusedWithBoth;

    expect(result.code).toBe(1);
    expect(logMessages(result.output)).toEqual([
      'hookrun cannot start: Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    ]);
  });

  it('shuts down on SIGTERM with exit code 0, closing its queue and cluster clients without hanging', async () => {
    const codes = await Promise.all([api!.stop('SIGTERM'), worker!.stop('SIGTERM')]);

    expect(codes).toEqual([0, 0]);
    for (const proc of [api!, worker!]) expect(proc.output()).toContain('hookrun stopped');
  });
});
