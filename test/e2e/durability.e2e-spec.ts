import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';

import { RUNS_QUEUE } from '../../src/modules/runs/runs.queue.js';
import { RunsReconciler } from '../../src/modules/runs/runs.reconciler.js';
import { RunClaimsRepository } from '../../src/modules/runs/run-claims.repository.js';
import { createWebhookWorkflow, createWorkflow } from '../support/factories.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait-for.js';

describe('a 202 is a promise: accepted runs finish even when the queue loses everything', () => {
  let api: TestApp;
  // These tests empty the whole Redis: a server of their own, never the one TEST_REDIS_URL names.
  let redis: OwnRedis;

  beforeAll(async () => {
    redis = await startOwnRedis();
    api = await startTestApp({ worker: false, env: { RECONCILE_INTERVAL_MS: '100', REDIS_URL: redis.url } });
    await resetDatabase(api.db);
  });

  afterAll(async () => {
    await api?.close();
    await redis?.stop();
  });

  it('completes 200 accepted webhooks after FLUSHALL wiped their jobs', async () => {
    const { trigger } = await createWebhookWorkflow(api);
    const accepted: string[] = [];
    for (let batch = 0; batch < 4; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const body = JSON.stringify({ n: batch * 50 + i });
          return api
            .http()
            .post(trigger.path)
            .set('content-type', 'application/json')
            .set(signedHeaders(trigger.secret, body))
            .send(body);
        }),
      );
      for (const res of responses) {
        expect(res.status).toBe(202);
        accepted.push(res.body.data.runId as string);
      }
    }
    expect(new Set(accepted).size).toBe(200);

    // This process's reconcile loop would put jobs back at once; the worker started below recovers.
    await api.app.get(RunsReconciler).onModuleDestroy();
    // The queue's server restarts empty: every job is gone, the runs are still queued in PostgreSQL.
    await redis.client.flushall();
    const queue = api.app.get<Queue>(getQueueToken(RUNS_QUEUE));
    const states = await Promise.all(accepted.map((runId) => queue.getJobState(runId)));
    expect(new Set(states)).toEqual(new Set(['unknown']));

    const worker = await startTestApp({
      worker: true,
      queuePrefix: api.config.queuePrefix,
      env: { RECONCILE_INTERVAL_MS: '100', WORKER_CONCURRENCY: '20', REDIS_URL: redis.url },
    });
    try {
      await waitUntil(
        async () => {
          const [{ count }] = await api.db.query(
            "SELECT count(*)::int AS count FROM workflow_runs WHERE id = ANY($1) AND status = 'completed'",
            [accepted],
          );
          return count === 200;
        },
        60_000,
        'all 200 runs to complete',
      );
      const outputs: { output: { doubled: number } }[] = await api.db.query(
        'SELECT output FROM workflow_runs WHERE id = ANY($1)',
        [accepted],
      );
      expect(outputs.map((r) => r.output.doubled).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 200 }, (_, i) => i * 2),
      );
    } finally {
      await worker.close();
    }
  });

  it('lets several processes reconcile at once without enqueueing a run twice', async () => {
    const { id } = await createWorkflow(api);
    const runIds: string[] = [];
    for (let i = 0; i < 40; i++) {
      runIds.push(
        (
          await api
            .http()
            .post(`/v1/workflows/${id}/runs`)
            .set(api.auth)
            .send({ input: { n: i } })
        ).body.data.id,
      );
    }
    // Only the three passes below reconcile: this process's automatic loop stopped in the test above.
    await api.app.get(RunsReconciler).onModuleDestroy();
    await redis.client.flushall();
    // Old enough to be due, never checked.
    await api.db.query(
      "UPDATE workflow_runs SET created_at = now() - interval '1 minute', checked_at = NULL WHERE id = ANY($1)",
      [runIds],
    );
    const other = await startTestApp({
      worker: false,
      queuePrefix: api.config.queuePrefix,
      env: { RECONCILE_INTERVAL_MS: '0', REDIS_URL: redis.url },
    });
    try {
      const counts = await Promise.all([
        api.app.get(RunsReconciler).reconcileOnce(),
        other.app.get(RunsReconciler).reconcileOnce(),
        other.app.get(RunsReconciler).reconcileOnce(),
      ]);
      const [{ checked }] = await api.db.query(
        'SELECT count(*)::int AS checked FROM workflow_runs WHERE id = ANY($1) AND checked_at IS NOT NULL',
        [runIds],
      );
      expect(checked).toBe(40);
      // Each run was taken by exactly one pass, and enqueued once.
      expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
      const queue = api.app.get<Queue>(getQueueToken(RUNS_QUEUE));
      const states = await Promise.all(runIds.map((runId) => queue.getJobState(runId)));
      expect(states).toEqual(Array(40).fill('waiting'));
    } finally {
      await other.close();
    }
  });

  it('fences every write by the claim: a stale worker cannot overwrite a newer one, a terminal status never changes', async () => {
    const { id } = await createWorkflow(api);
    const runId = (await api.http().post(`/v1/workflows/${id}/runs`).set(api.auth).send({ input: {} })).body.data.id;
    const runs = api.app.get(RunClaimsRepository);
    const stale = await runs.claim(runId, new Date());
    const fresh = await runs.claim(runId, new Date());
    expect([stale?.attempt, fresh?.attempt]).toEqual([1, 2]);
    const step = (output: string) => ({
      stepId: 'double',
      position: 0,
      type: 'transform',
      status: 'completed' as const,
      attempts: 1,
      startedAt: new Date(),
      finishedAt: new Date(),
      output,
      error: null,
    });

    expect(await runs.writeSteps(runId, 1, [step('stale')])).toBe(false);
    expect(await runs.finish(runId, 1, { status: 'completed', output: 'stale' }, new Date(), [step('stale')])).toBe(
      false,
    );
    expect(await runs.writeSteps(runId, 2, [step('fresh')])).toBe(true);
    expect(await runs.finish(runId, 2, { status: 'completed', output: 'fresh' }, new Date())).toBe(true);
    expect(
      await runs.finish(runId, 2, { status: 'failed', error: { code: 'x', message: 'x', stepId: null } }, new Date()),
    ).toBe(false);
    expect(await runs.claim(runId, new Date())).toBeNull();

    const run = (await api.http().get(`/v1/workflow-runs/${runId}`).set(api.auth)).body.data;
    expect(run).toEqual(expect.objectContaining({ status: 'completed', output: 'fresh' }));
    expect(run.steps[0]).toEqual(expect.objectContaining({ status: 'completed', output: 'fresh' }));
  });

  it('fences each run on its own when claims and ends go to PostgreSQL together', async () => {
    const { id } = await createWorkflow(api);
    const [twice, refused, completes, fails] = await Promise.all(
      [1, 2, 3, 4].map(
        async () =>
          (await api.http().post(`/v1/workflows/${id}/runs`).set(api.auth).send({ input: {} })).body.data.id as string,
      ),
    );
    const runs = api.app.get(RunClaimsRepository);
    const now = new Date();
    // Submitted in one tick: they share statements, and one run claimed twice still gets two claims.
    const claims = await Promise.all([twice, twice, refused, completes, fails].map((runId) => runs.claim(runId, now)));
    expect(claims.map((run) => run?.attempt)).toEqual([1, 2, 1, 1, 1]);

    const step = {
      stepId: 'double',
      position: 0,
      type: 'transform',
      status: 'completed' as const,
      attempts: 1,
      startedAt: now,
      finishedAt: now,
      output: 'step output',
      error: null,
    };
    const error = { code: 'step_failed', message: 'it broke', stepId: 'double' };
    const ends = await Promise.allSettled([
      runs.finish(twice, 1, { status: 'completed', output: 'stale' }, now),
      runs.finish(twice, 2, { status: 'completed', output: 'fresh' }, now),
      // PostgreSQL refuses to store U+0000 in jsonb: this end fails, and only this one.
      runs.finish(refused, 1, { status: 'completed', output: 'nul \u0000 byte' }, now),
      runs.finish(completes, 1, { status: 'completed', output: { n: 2 } }, now, [step]),
      runs.finish(fails, 1, { status: 'failed', error }, now),
    ]);
    expect(ends.map((end) => (end.status === 'fulfilled' ? end.value : 'rejected'))).toEqual([
      false,
      true,
      'rejected',
      true,
      true,
    ]);

    const get = async (runId: string) => (await api.http().get(`/v1/workflow-runs/${runId}`).set(api.auth)).body.data;
    expect(await get(twice)).toEqual(expect.objectContaining({ status: 'completed', output: 'fresh' }));
    expect(await get(refused)).toEqual(expect.objectContaining({ status: 'running', output: null, completedAt: null }));
    const completed = await get(completes);
    expect(completed).toEqual(expect.objectContaining({ status: 'completed', output: { n: 2 } }));
    expect(completed.steps).toEqual([
      expect.objectContaining({ id: 'double', status: 'completed', output: 'step output' }),
    ]);
    expect(await get(fails)).toEqual(expect.objectContaining({ status: 'failed', error, output: null }));
  });
});
