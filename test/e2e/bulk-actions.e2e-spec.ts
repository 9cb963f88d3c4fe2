import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { BulkActionRunner } from '../../src/modules/bulk-actions/bulk-action.runner.js';
import { expectError } from '../support/expect-error.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

interface BulkBody {
  id: string;
  action: string;
  status: string;
  matched: number;
  done: number;
  failed: number;
  failures: { runId: string; code: string; reason: string }[];
  createdAt: string;
  completedAt: string | null;
  [key: string]: unknown;
}

const ENV = { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1', RECONCILE_INTERVAL_MS: '0' };

/** `input.mode`: "quick" completes at once, "hold" waits in an http step to `/held`, anything else in a delay. */
function mixedDefinition(sinkUrl: string) {
  return {
    steps: [
      { id: 'gate', type: 'condition', expression: 'input.mode = "quick"', then: null, else: 'route' },
      { id: 'route', type: 'condition', expression: 'input.mode = "hold"', then: 'call', else: 'pause' },
      { id: 'call', type: 'http', request: { method: 'POST', url: `${sinkUrl}/held` }, timeoutMs: 60_000 },
      { id: 'pause', type: 'delay', durationMs: 600_000 },
    ],
  };
}

async function startRun(t: TestApp, workflowId: string, input: unknown = {}): Promise<string> {
  const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
  expect(res.status).toBe(202);
  return res.body.data.id as string;
}

function postBulk(t: TestApp, body: object, idempotencyKey?: string) {
  const req = t.http().post('/v1/workflow-runs/bulk').set(t.auth);
  if (idempotencyKey !== undefined) req.set('Idempotency-Key', idempotencyKey);
  return req.send(body);
}

async function createBulk(t: TestApp, body: object): Promise<BulkBody> {
  const res = await postBulk(t, body);
  expect(res.status).toBe(202);
  expect(res.headers.location).toBe(`/v1/workflow-runs/bulk/${res.body.data.id}`);
  return res.body.data as BulkBody;
}

async function waitForBulk(t: TestApp, id: string, timeoutMs = 20_000): Promise<BulkBody> {
  let last: BulkBody | undefined;
  await waitUntil(
    async () => {
      const res = await t.http().get(`/v1/workflow-runs/bulk/${id}`).set(t.auth);
      expect(res.status).toBe(200);
      last = res.body.data as BulkBody;
      return last.status === 'completed';
    },
    timeoutMs,
    `bulk action ${id} to complete`,
  );
  return last as BulkBody;
}

async function readRun(t: TestApp, id: string): Promise<RunBody> {
  return (await t.http().get(`/v1/workflow-runs/${id}`).set(t.auth)).body.data as RunBody;
}

async function waitUntilWaiting(t: TestApp, id: string): Promise<void> {
  await waitUntil(
    async () => (await readRun(t, id)).steps.some((s) => s.status === 'waiting'),
    10_000,
    `run ${id} to wait in its delay`,
  );
}

describe('bulk actions on runs', () => {
  const sink = new HttpSink();
  let t: TestApp;

  beforeAll(async () => {
    await sink.start();
    t = await startTestApp({ env: ENV });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t?.close();
    await sink.stop();
  });

  it('cancels the unfinished runs of a workflow, aborting the step in flight, and counts a finished one as failed', async () => {
    sink.hold('/held');
    const { id: workflowId } = await createWorkflow(t, mixedDefinition(sink.url));
    const quick = await startRun(t, workflowId, { mode: 'quick' });
    await waitForRun(t, quick);
    const held = await startRun(t, workflowId, { mode: 'hold' });
    const waiting = [await startRun(t, workflowId), await startRun(t, workflowId)];
    await waitUntil(async () => sink.to('/held').length === 1, 10_000, 'the held request');
    for (const id of waiting) await waitUntilWaiting(t, id);

    const created = await createBulk(t, { action: 'cancel', filter: { workflowId } });
    expect(created).toMatchObject({ action: 'cancel', matched: 4, limit: 1000, filter: { workflowId } });
    expect(['queued', 'running', 'completed']).toContain(created.status);

    const bulk = await waitForBulk(t, created.id);
    expect(bulk).toMatchObject({ status: 'completed', matched: 4, done: 3, failed: 1 });
    expect(bulk.failures).toEqual([{ runId: quick, code: 'run_finished', reason: 'Run has already finished' }]);
    expect(bulk.completedAt).not.toBeNull();
    for (const id of [held, ...waiting]) {
      const run = await readRun(t, id);
      expect(run.status).toBe('cancelled');
      expect(run.steps.filter((s) => ['pending', 'running', 'waiting'].includes(s.status))).toEqual([]);
    }
    expect((await readRun(t, quick)).status).toBe('completed');
    // The executor heard of the cancellation: the request in flight was aborted.
    await waitUntil(async () => sink.to('/held')[0].aborted, 10_000, 'the request in flight to be aborted');
    sink.releaseAll();
  });

  it('retries failed runs from their failed step; completed runs in the filter count as failed', async () => {
    let up = false;
    sink.on('/flaky', (_req, res) => {
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ up }));
    });
    const { id: workflowId } = await createWorkflow(t, {
      steps: [
        { id: 'gate', type: 'condition', expression: 'input.mode = "quick"', then: null, else: 'first' },
        { id: 'first', type: 'transform', expression: '1' },
        { id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/flaky` } },
      ],
    });
    const failed = [await startRun(t, workflowId), await startRun(t, workflowId), await startRun(t, workflowId)];
    const completed = await startRun(t, workflowId, { mode: 'quick' });
    for (const id of failed) expect((await waitForRun(t, id)).status).toBe('failed');
    expect((await waitForRun(t, completed)).status).toBe('completed');
    const firstBefore = new Map<string, unknown>();
    for (const id of failed)
      firstBefore.set(
        id,
        (await readRun(t, id)).steps.find((s) => s.id === 'first'),
      );

    up = true;
    const created = await createBulk(t, { action: 'retry', filter: { workflowId } });
    expect(created.matched).toBe(4);
    const bulk = await waitForBulk(t, created.id);
    expect(bulk).toMatchObject({ matched: 4, done: 3, failed: 1 });
    expect(bulk.failures).toEqual([
      { runId: completed, code: 'run_not_failed', reason: 'Only failed runs can be retried' },
    ]);
    for (const id of failed) {
      const run = await waitForRun(t, id);
      expect(run.status).toBe('completed');
      // From the failed step: the completed step is kept as it was.
      expect(run.steps.find((s) => s.id === 'first')).toEqual(firstBefore.get(id));
    }
  });

  it('reruns the newest matching runs up to limit, as new runs linked by rerunOf', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const originals: string[] = [];
    for (const n of [1, 2, 3]) originals.push(await startRun(t, workflowId, { n }));
    for (const id of originals) await waitForRun(t, id);

    const created = await createBulk(t, {
      action: 'rerun',
      filter: { workflowId, status: 'completed', triggerType: 'api' },
      limit: 2,
    });
    expect(created).toMatchObject({ matched: 2, limit: 2 });
    const bulk = await waitForBulk(t, created.id);
    expect(bulk).toMatchObject({ matched: 2, done: 2, failed: 0, failures: [] });

    const reruns = await t.http().get(`/v1/workflow-runs?workflowId=${workflowId}&triggerType=rerun`).set(t.auth);
    const byOriginal = new Map((reruns.body.data as RunBody[]).map((run) => [run.rerunOf as string, run.id]));
    // Ids are time-ordered: the two newest originals.
    expect([...byOriginal.keys()].sort()).toEqual(originals.slice(1).sort());
    for (const [original, rerun] of byOriginal) {
      const run = await waitForRun(t, rerun);
      expect(run.status).toBe('completed');
      expect(run.input).toEqual((await readRun(t, original)).input);
    }
  });

  it('answers an empty match as completed at once', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const created = await createBulk(t, { action: 'cancel', filter: { workflowId } });
    expect(created).toMatchObject({ status: 'completed', matched: 0, done: 0, failed: 0 });
    expect(created.completedAt).not.toBeNull();
  });

  it('refuses invalid requests with 400 validation_failed', async () => {
    const countActions = async () =>
      (await t.db.query<{ count: number }[]>('SELECT count(*)::int AS count FROM bulk_actions'))[0].count;
    const actionsBefore = await countActions();
    const workflowId = '0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a';
    const bad: object[] = [
      { action: 'delete', filter: {} },
      { filter: {} },
      { action: 'cancel' },
      { action: 'cancel', filter: null },
      { action: 'cancel', filter: [] },
      { action: 'cancel', filter: {}, limit: 0 },
      { action: 'cancel', filter: {}, limit: 100_001 },
      { action: 'cancel', filter: {}, limit: 1.5 },
      { action: 'cancel', filter: {}, limit: '10' },
      { action: 'cancel', filter: { workflowId: 'nope' } },
      { action: 'cancel', filter: { status: 'sleeping' } },
      { action: 'cancel', filter: { triggerType: 'cron' } },
      { action: 'cancel', filter: { createdAfter: 'yesterday' } },
      { action: 'cancel', filter: { createdAfter: '2026-11-28T00:00:00Z', createdBefore: '2026-11-28T00:00:00Z' } },
      { action: 'cancel', filter: { createdAfter: '2026-11-29T00:00:00Z', createdBefore: '2026-11-28T00:00:00Z' } },
      { action: 'cancel', filter: { workflowId, extra: 1 } },
      { action: 'cancel', filter: {}, extra: 1 },
    ];
    for (const body of bad) {
      const res = await postBulk(t, body);
      expectError(res, 400, 'validation_failed');
    }
    const res = await postBulk(t, {
      action: 'cancel',
      filter: { createdAfter: '2026-11-29', createdBefore: '2026-11-28' },
    });
    expect(res.body.error.details).toEqual([
      { field: 'filter.createdBefore', message: 'must be after filter.createdAfter' },
    ]);
    expectError(await postBulk(t, { action: 'cancel', filter: {} }, 'has space'), 400, 'validation_failed');
    expect(await countActions()).toBe(actionsBefore);
  });

  it('replays the same request with the same Idempotency-Key and refuses the key with another request', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const body = { action: 'cancel', filter: { workflowId, createdAfter: '2026-01-01T00:00:00Z' }, limit: 10 };
    const first = await postBulk(t, body, 'bulk-key-1');
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // The same request written another way (upper-case id, another time zone) is the same request.
    const again = await postBulk(
      t,
      { ...body, filter: { workflowId: workflowId.toUpperCase(), createdAfter: '2026-01-01T01:00:00+01:00' } },
      'bulk-key-1',
    );
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/v1/workflow-runs/bulk/${first.body.data.id}`);
    expect(again.body.data.id).toBe(first.body.data.id);

    expectError(await postBulk(t, { ...body, limit: 11 }, 'bulk-key-1'), 409, 'idempotency_key_reused');
    expectError(await postBulk(t, { ...body, action: 'retry' }, 'bulk-key-1'), 409, 'idempotency_key_reused');
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM bulk_actions WHERE idempotency_key = $1`, [
      'bulk-key-1',
    ]);
    expect(count).toBe(1);
  });

  it('answers 404 bulk_action_not_found for an unknown id, and keeps /v1/workflow-runs/{id} for runs', async () => {
    expectError(
      await t.http().get('/v1/workflow-runs/bulk/0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a').set(t.auth),
      404,
      'bulk_action_not_found',
    );
    expectError(await t.http().get('/v1/workflow-runs/bulk/nope').set(t.auth), 404, 'bulk_action_not_found');
    expectError(await t.http().get('/v1/workflow-runs/bulk').set(t.auth), 404, 'run_not_found');
    expectError(
      await t.http().post('/v1/workflow-runs/bulk').send({ action: 'cancel', filter: {} }),
      401,
      'unauthorized',
    );
  });

  it('finishes an action whose job was lost, once a worker starts, and leaves runs created after it alone', async () => {
    // No worker reads the API process's queue: the job it enqueues is never taken.
    const api = await startTestApp({ worker: false, env: ENV });
    let worker: TestApp | undefined;
    try {
      // The worker's run reconciler may start the runs before its sweep finds the action: they then wait in a delay.
      const { id: workflowId } = await createWorkflow(api, mixedDefinition(sink.url));
      const before = [
        await startRun(api, workflowId),
        await startRun(api, workflowId),
        await startRun(api, workflowId),
      ];
      const created = await createBulk(api, { action: 'cancel', filter: { workflowId, status: 'queued' } });
      expect(created).toMatchObject({ status: 'queued', matched: 3, done: 0 });
      const after = [
        await startRun(api, workflowId, { mode: 'quick' }),
        await startRun(api, workflowId, { mode: 'quick' }),
      ];
      for (const id of before) expect((await readRun(api, id)).status).toBe('queued');

      // A worker on a queue of its own: only its sweep of PostgreSQL can find the action.
      worker = await startTestApp({ env: { ...ENV, RECONCILE_INTERVAL_MS: '100' } });
      const bulk = await waitForBulk(api, created.id);
      expect(bulk).toMatchObject({ matched: 3, done: 3, failed: 0 });
      for (const id of before) expect((await readRun(api, id)).status).toBe('cancelled');
      // Runs created after the action are not in it: the worker's run reconciler starts them and they complete.
      for (const id of after) expect((await waitForRun(api, id)).status).toBe('completed');
    } finally {
      await worker?.close();
      await api.close();
    }
  });

  it('acts on each run once when two processes work on one action side by side', async () => {
    const other = await startTestApp({ env: ENV });
    try {
      const { id: workflowId } = await createWorkflow(t, {
        steps: [{ id: 'pause', type: 'delay', durationMs: 600_000 }],
      });
      // Stored directly: 600 queued runs, as many as the API would take a while to start.
      await t.db.query(
        `INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, input)
         SELECT gen_random_uuid(), $1, 1, 'queued', 'api', '{}'::jsonb FROM generate_series(1, 600)`,
        [workflowId],
      );
      // Besides the action's own job (in `other`'s queue), a runner in each process works on it.
      const created = await createBulk(other, { action: 'cancel', filter: { workflowId } });
      expect(created.matched).toBe(600);
      await Promise.all([
        t.app.get(BulkActionRunner).runToEnd(created.id, 25),
        other.app.get(BulkActionRunner).runToEnd(created.id, 25),
      ]);
      const bulk = await waitForBulk(t, created.id);
      // A run acted on twice would be refused the second time (run_finished) and counted in `failed`.
      expect(bulk).toMatchObject({ matched: 600, done: 600, failed: 0 });
      const [{ count }] = await t.db.query(
        `SELECT count(*)::int AS count FROM workflow_runs WHERE workflow_id = $1 AND status = 'cancelled'`,
        [workflowId],
      );
      expect(count).toBe(600);
    } finally {
      await other.close();
    }
  });

  // Last: the queue backend it chooses stays chosen for the rest of the file.
  it('completes an action on its job with the queue on PostgreSQL, as in the embedded mode', async () => {
    const onPostgres = await startTestApp({ queueOnPostgres: true, env: ENV });
    try {
      const { id: workflowId } = await createWorkflow(onPostgres, mixedDefinition(sink.url));
      const runs = [await startRun(onPostgres, workflowId), await startRun(onPostgres, workflowId)];
      for (const id of runs) await waitUntilWaiting(onPostgres, id);
      const created = await createBulk(onPostgres, { action: 'cancel', filter: { workflowId } });
      // RECONCILE_INTERVAL_MS is 0: no sweep, only the job can complete it.
      expect(await waitForBulk(onPostgres, created.id)).toMatchObject({ matched: 2, done: 2, failed: 0 });
      for (const id of runs) expect((await readRun(onPostgres, id)).status).toBe('cancelled');
    } finally {
      await onPostgres.close();
    }
  });
});
