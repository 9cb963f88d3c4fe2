import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { ProcessClient, type ProcessWebhook } from '../support/process-client.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { startOwnRedisCluster, type OwnRedisCluster } from '../support/redis-cluster.js';
import { ensureTestDatabase } from '../support/test-database.js';

/** The built app as separate API and worker processes on a 3-node Redis Cluster of the test's own. */
describe('on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let cluster: OwnRedisCluster;
  let api: HookrunProcess | undefined;
  let worker: HookrunProcess | undefined;
  let client: ProcessClient;
  let webhook: ProcessWebhook;

  beforeAll(async () => {
    await ensureTestDatabase();
    cluster = await startOwnRedisCluster(3);
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_CLUSTER_NODES: cluster.nodeList,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      LOG_LEVEL: 'info',
    };
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
});
