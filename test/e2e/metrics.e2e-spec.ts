import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { expectError } from '../support/expect-error.js';
import { createTrigger, createWorkflow, ONE_STEP_DEFINITION } from '../support/factories.js';
import { startHookrun } from '../support/processes.js';
import { parsePrometheusText, sampleKey, samplesOf, type Samples } from '../support/prometheus-text.js';
import { signedHeaders } from '../support/signing.js';
import { deleteQueueKeys, resetDatabase, startTestApp, testQueuePrefix, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil } from '../support/wait-for.js';

const DELIVERIES = 'hookrun_webhook_deliveries_total';
const INGEST = 'hookrun_webhook_ingest_duration_seconds';
const STARTED = 'hookrun_runs_started_total';
const ENDED = 'hookrun_runs_ended_total';
const RUN_SECONDS = 'hookrun_run_duration_seconds';
const STEP_SECONDS = 'hookrun_step_duration_seconds';
const SCHEME = 'standard-webhooks';
const FAILING = { steps: [{ id: 'boom', type: 'fail', message: 'no' }] };
const PAUSED = { steps: [{ id: 'pause', type: 'delay', durationMs: 600_000 }] };

async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<Samples> {
  const res = await t.http().get('/metrics').set(headers);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(res.text);
}

function value(samples: Samples, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.get(sampleKey(name, labels));
}

async function startRun(t: TestApp, workflowId: string): Promise<string> {
  const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input: {} });
  expect(res.status).toBe(202);
  return (res.body.data as { id: string }).id;
}

describe('GET /metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  it('counts a known sequence of deliveries and runs exactly', async () => {
    const workflow = await createWorkflow(t);
    // A filter, so that a delivery can be verified and still start nothing.
    const trigger = await createTrigger(t, workflow.id, { filter: 'body.n > 0' });
    const post = (body: string, headers: Record<string, string>) =>
      t
        .http()
        .post(trigger.path)
        .set({ ...headers, 'content-type': 'application/json' })
        .send(body);

    const accepted: { body: string; headers: Record<string, string> }[] = [];
    for (const n of [1, 2, 3]) {
      const body = JSON.stringify({ n });
      const headers = signedHeaders(trigger.secret, body);
      const res = await post(body, headers);
      expect(res.status).toBe(202);
      accepted.push({ body, headers });
      await waitForRun(t, (res.body.data as { runId: string }).runId);
    }
    const replay = await post(accepted[0].body, accepted[0].headers);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const forged = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    for (let i = 0; i < 2; i++) {
      const body = JSON.stringify({ n: 9 });
      expectError(await post(body, signedHeaders(forged, body)), 401, 'invalid_signature');
    }
    const skipped = JSON.stringify({ n: 0 });
    const filtered = await post(skipped, signedHeaders(trigger.secret, skipped));
    expect(filtered.status).toBe(200);
    expect(filtered.body).toEqual({ data: { filtered: true } });
    const unknown = JSON.stringify({ n: 1 });
    expectError(
      await t
        .http()
        .post('/webhooks/workflows/no-such-slug-here')
        .set(signedHeaders(trigger.secret, unknown))
        .send(unknown),
      404,
      'trigger_not_found',
    );

    const failing = await createWorkflow(t, FAILING);
    expect((await waitForRun(t, await startRun(t, failing.id))).status).toBe('failed');
    const paused = await createWorkflow(t, PAUSED);
    const pausedRun = await startRun(t, paused.id);
    await waitForRun(t, pausedRun, { statuses: ['running'] });
    // The run waits in its delay step as a delayed job: the queue depth says so.
    await waitUntil(
      async () => value(await scrape(t), 'hookrun_queue_jobs', { state: 'delayed' }) === 1,
      10_000,
      'the delay step to show as a delayed job',
    );
    expect((await t.http().post(`/v1/workflow-runs/${pausedRun}/cancel`).set(t.auth)).status).toBe(200);

    // A run's end is counted just after its row is written: the API may show it a moment earlier.
    await waitUntil(
      async () => value(await scrape(t), ENDED, { status: 'completed' }) === 3,
      10_000,
      'the completed runs to be counted',
    );
    const samples = await scrape(t);
    expect(samplesOf(samples, DELIVERIES)).toEqual({
      [sampleKey(DELIVERIES, { scheme: SCHEME, outcome: 'accepted', error_code: 'none' })]: 3,
      [sampleKey(DELIVERIES, { scheme: SCHEME, outcome: 'replayed', error_code: 'none' })]: 1,
      [sampleKey(DELIVERIES, { scheme: SCHEME, outcome: 'rejected', error_code: 'invalid_signature' })]: 2,
      [sampleKey(DELIVERIES, { scheme: SCHEME, outcome: 'filtered', error_code: 'none' })]: 1,
      [sampleKey(DELIVERIES, { scheme: 'unknown', outcome: 'rejected', error_code: 'trigger_not_found' })]: 1,
    });
    expect(samplesOf(samples, `${INGEST}_count`)).toEqual({
      [sampleKey(`${INGEST}_count`, { outcome: 'accepted' })]: 3,
      [sampleKey(`${INGEST}_count`, { outcome: 'replayed' })]: 1,
      [sampleKey(`${INGEST}_count`, { outcome: 'rejected' })]: 3,
      [sampleKey(`${INGEST}_count`, { outcome: 'filtered' })]: 1,
    });
    expect(value(samples, `${INGEST}_bucket`, { outcome: 'accepted', le: '+Inf' })).toBe(3);

    expect(value(samples, STARTED)).toBe(5);
    expect(samplesOf(samples, ENDED)).toEqual({
      [sampleKey(ENDED, { status: 'completed' })]: 3,
      [sampleKey(ENDED, { status: 'failed' })]: 1,
      [sampleKey(ENDED, { status: 'cancelled' })]: 1,
    });
    expect(samplesOf(samples, `${RUN_SECONDS}_count`)).toEqual({
      [sampleKey(`${RUN_SECONDS}_count`, { status: 'completed' })]: 3,
      [sampleKey(`${RUN_SECONDS}_count`, { status: 'failed' })]: 1,
      [sampleKey(`${RUN_SECONDS}_count`, { status: 'cancelled' })]: 1,
    });
    expect(samplesOf(samples, `${STEP_SECONDS}_count`)).toEqual({
      [sampleKey(`${STEP_SECONDS}_count`, { type: 'transform', status: 'completed' })]: 3,
      [sampleKey(`${STEP_SECONDS}_count`, { type: 'fail', status: 'failed' })]: 1,
    });
    expect(value(samples, 'hookrun_reconciler_requeued_runs_total')).toBe(0);
    // Nothing is queued any more; the gauges read when scraped are there.
    expect(value(samples, 'hookrun_oldest_queued_run_age_seconds')).toBe(0);
    expect(value(samples, 'hookrun_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(value(samples, 'hookrun_queue_jobs', { state: 'active' })).toBe(0);
    expect(value(samples, 'hookrun_pg_pool_connections', { state: 'total' })).toBeGreaterThan(0);
    expect(value(samples, 'hookrun_pg_pool_connections', { state: 'waiting' })).toBe(0);
    expect(value(samples, 'nodejs_eventloop_lag_seconds')).toEqual(expect.any(Number));
    expect(value(samples, 'process_cpu_user_seconds_total')).toEqual(expect.any(Number));
    // Bounded by default: no series per workflow.
    expect([...samples.keys()].some((key) => key.includes('workflow_id'))).toBe(false);
  });
});

describe('GET /metrics with options', () => {
  const apps: TestApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('takes METRICS_TOKEN as a Bearer token: 401 without it or with another', async () => {
    const token = 'scrape-token-0123456789abcdef';
    const t = await startTestApp({ env: { METRICS_TOKEN: token } });
    apps.push(t);
    expectError(await t.http().get('/metrics'), 401, 'unauthorized');
    expectError(
      await t
        .http()
        .get('/metrics')
        .set({ Authorization: `Bearer ${token}x` }),
      401,
      'unauthorized',
    );
    // An API key is not the metrics token.
    expectError(await t.http().get('/metrics').set(t.auth), 401, 'unauthorized');
    const samples = await scrape(t, { Authorization: `Bearer ${token}` });
    expect(value(samples, STARTED)).toBe(0);
  });

  it('reports the jobs waiting and the age of the oldest queued run', async () => {
    // An API without workers: the run stays queued.
    const t = await startTestApp({ worker: false });
    apps.push(t);
    await resetDatabase(t.db);
    const workflow = await createWorkflow(t);
    const runId = await startRun(t, workflow.id);
    await t.db.query(`UPDATE workflow_runs SET created_at = now() - interval '2 minutes' WHERE id = $1`, [runId]);
    await waitUntil(
      async () => (value(await scrape(t), 'hookrun_oldest_queued_run_age_seconds') ?? 0) >= 120,
      5000,
      'the age of the oldest queued run',
    );
    const samples = await scrape(t);
    expect(value(samples, 'hookrun_oldest_queued_run_age_seconds')).toBeLessThan(180);
    expect(value(samples, 'hookrun_queue_jobs', { state: 'waiting' })).toBe(1);
  });

  it('labels runs with their workflow id with METRICS_WORKFLOW_LABELS=true', async () => {
    const t = await startTestApp({ env: { METRICS_WORKFLOW_LABELS: 'true' } });
    apps.push(t);
    await resetDatabase(t.db);
    const workflow = await createWorkflow(t);
    await waitForRun(t, await startRun(t, workflow.id));
    await waitUntil(
      async () => value(await scrape(t), ENDED, { status: 'completed', workflow_id: workflow.id }) === 1,
      10_000,
      'the run counted under its workflow',
    );
    const samples = await scrape(t);
    expect(samplesOf(samples, STARTED)).toEqual({ [sampleKey(STARTED, { workflow_id: workflow.id })]: 1 });
    expect(samplesOf(samples, ENDED)).toEqual({
      [sampleKey(ENDED, { status: 'completed', workflow_id: workflow.id })]: 1,
    });
  });

  it('is served by a worker-only process, with the runs it executed and no deliveries', async () => {
    const queuePrefix = testQueuePrefix();
    const api = await startTestApp({ worker: false, queuePrefix });
    apps.push(api);
    await resetDatabase(api.db);
    const worker = await startTestApp({ env: { HOOKRUN_ROLE: 'worker' }, queuePrefix });
    apps.push(worker);
    const workflow = await createWorkflow(api, ONE_STEP_DEFINITION);
    const trigger = await createTrigger(api, workflow.id);
    const body = JSON.stringify({ n: 4 });
    const res = await api
      .http()
      .post(trigger.path)
      .set({ ...signedHeaders(trigger.secret, body), 'content-type': 'application/json' })
      .send(body);
    expect(res.status).toBe(202);
    await waitForRun(api, (res.body.data as { runId: string }).runId);

    expect((await worker.http().get('/v1/workflows').set(worker.auth)).status).toBe(404);
    await waitUntil(
      async () => value(await scrape(worker), ENDED, { status: 'completed' }) === 1,
      10_000,
      'the worker to count the run',
    );
    const fromWorker = await scrape(worker);
    expect(value(fromWorker, STARTED)).toBe(1);
    expect(value(fromWorker, `${STEP_SECONDS}_count`, { type: 'transform', status: 'completed' })).toBe(1);
    expect(samplesOf(fromWorker, DELIVERIES)).toEqual({});
    const fromApi = await scrape(api);
    expect(value(fromApi, DELIVERIES, { scheme: SCHEME, outcome: 'accepted', error_code: 'none' })).toBe(1);
    expect(value(fromApi, STARTED)).toBe(0);
  });

  it('is served by the built worker process (`node dist/main.js worker`), behind its token', async () => {
    const token = 'worker-scrape-token-0123456789';
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: testQueuePrefix(),
      METRICS_TOKEN: token,
      LOG_LEVEL: 'info',
    };
    const worker = await startHookrun(['worker'], env);
    try {
      expect((await fetch(`${worker.baseUrl}/metrics`)).status).toBe(401);
      const res = await fetch(`${worker.baseUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const samples = parsePrometheusText(await res.text());
      expect(value(samples, STARTED)).toBe(0);
      expect(value(samples, 'hookrun_queue_jobs', { state: 'waiting' })).toBe(0);
      // The token is never written to the log.
      expect(worker.output()).not.toContain(token);
    } finally {
      await worker.stop();
      await deleteQueueKeys(TEST_REDIS_URL, env.QUEUE_PREFIX);
    }
  });
});
