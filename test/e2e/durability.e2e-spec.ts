import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';

import { TEST_REDIS_URL } from '../support/env.js';
import { createWebhookWorkflow } from '../support/factories.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait-for.js';

describe('a 202 is a promise: accepted runs finish even when the queue loses everything', () => {
  let api: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    api = await startTestApp({ worker: false, env: { RECONCILE_INTERVAL_MS: '100' } });
    await resetDatabase(api.db);
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    redis.disconnect();
    await api.close();
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

    // The queue's server restarts empty: every job is gone, the runs are still queued in PostgreSQL.
    await redis.flushall();
    expect(await redis.dbsize()).toBe(0);

    const worker = await startTestApp({
      worker: true,
      queuePrefix: api.config.queuePrefix,
      env: { RECONCILE_INTERVAL_MS: '100', WORKER_CONCURRENCY: '20' },
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
});
