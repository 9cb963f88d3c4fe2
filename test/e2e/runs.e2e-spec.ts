import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { expectError } from '../support/expect-error.js';
import { createWorkflow } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun } from '../support/wait-for.js';

const SCORE = {
  steps: [
    { id: 'score', type: 'transform', expression: '$count(input.deals)' },
    { id: 'gate', type: 'condition', expression: 'steps.score.output > 2', then: 'big', else: 'small' },
    { id: 'big', type: 'transform', expression: "{ 'company': input.companyId, 'score': steps.score.output }" },
    { id: 'stop', type: 'condition', expression: 'true', then: null, else: null },
    { id: 'small', type: 'fail', message: 'Only {{ steps.score.output }} deals', code: 'too_few_deals' },
  ],
  output: 'steps.big.output',
};

describe('runs started with the API', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const start = (workflowId: string, input: unknown, key?: string) => {
    const req = t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth);
    if (key !== undefined) req.set('Idempotency-Key', key);
    return req.send({ input });
  };

  it('runs a workflow to completed with its output, skipping the steps a condition jumps over', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const res = await start(id, { companyId: 'acme', deals: [1, 2, 3] });
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual(
      expect.objectContaining({
        workflowId: id,
        workflowVersion: 1,
        status: 'queued',
        trigger: { type: 'api' },
        input: { companyId: 'acme', deals: [1, 2, 3] },
      }),
    );
    expect(res.headers.location).toBe(`/v1/workflow-runs/${res.body.data.id}`);
    const run = await waitForRun(t, res.body.data.id);
    expect(run).toEqual(
      expect.objectContaining({ status: 'completed', output: { company: 'acme', score: 3 }, error: null }),
    );
    expect(run.steps.map((s) => [s.id, s.status])).toEqual([
      ['score', 'completed'],
      ['gate', 'completed'],
      ['big', 'completed'],
      ['stop', 'completed'],
      ['small', 'skipped'],
    ]);
    expect(run.startedAt).toEqual(expect.any(String));
    expect(run.completedAt).toEqual(expect.any(String));
  });

  it('fails a run with error.code, error.message and error.stepId', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const res = await start(id, { companyId: 'acme', deals: [1] });
    const run = await waitForRun(t, res.body.data.id);
    expect(run.status).toBe('failed');
    expect(run.error).toEqual({ code: 'too_few_deals', message: 'Only 1 deals', stepId: 'small' });
    expect(run.steps.find((s) => s.id === 'small')).toEqual(
      expect.objectContaining({ status: 'failed', error: { code: 'too_few_deals', message: 'Only 1 deals' } }),
    );
    expect(run.steps.find((s) => s.id === 'big')?.status).toBe('skipped');
  });

  it('fails a run whose expression errors, naming the step', async () => {
    const { id } = await createWorkflow(t, {
      steps: [{ id: 'boom', type: 'transform', expression: 'input.a + "text"' }],
    });
    const run = await waitForRun(t, (await start(id, { a: 1 })).body.data.id);
    expect(run.status).toBe('failed');
    expect(run.error).toEqual(expect.objectContaining({ code: 'expression_error', stepId: 'boom' }));
  });

  it('returns the first run for a repeated Idempotency-Key, with idempotent-replayed: true', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const first = await start(id, { deals: [] }, 'order-42');
    const again = await start(id, { deals: [1, 2, 3, 4] }, 'order-42');
    expect(again.status).toBe(202);
    expect(again.body.data.id).toBe(first.body.data.id);
    expect(again.body.data.input).toEqual({ deals: [] });
    expect(again.body.data.trigger).toEqual({ type: 'api', idempotencyKey: 'order-42' });
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();

    const other = await createWorkflow(t, SCORE);
    const elsewhere = await start(other.id, { deals: [] }, 'order-42');
    expect(elsewhere.body.data.id).not.toBe(first.body.data.id);

    const parallel = await Promise.all(Array.from({ length: 20 }, () => start(id, { deals: [] }, 'order-43')));
    expect(parallel.map((r) => r.status)).toEqual(Array(20).fill(202));
    expect(new Set(parallel.map((r) => r.body.data.id)).size).toBe(1);

    expectError(await start(id, {}, 'has space'), 400, 'validation_failed');
    expectError(await start(id, {}, 'x'.repeat(256)), 400, 'validation_failed');
  });

  it('refuses runs of a disabled (409) or deleted (404) workflow, and a body without input', async () => {
    const { id } = await createWorkflow(t, SCORE);
    expectError(await t.http().post(`/v1/workflows/${id}/runs`).set(t.auth).send({}), 400, 'validation_failed');
    await t.http().patch(`/v1/workflows/${id}`).set(t.auth).send({ enabled: false }).expect(200);
    expectError(await start(id, {}), 409, 'workflow_disabled');
    await t.http().delete(`/v1/workflows/${id}`).set(t.auth).expect(204);
    expectError(await start(id, {}), 404, 'workflow_not_found');
  });

  it('answers 400 invalid_json for a body nested deeper than 256 levels, and starts no run', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const nested = (levels: number) => `${'['.repeat(levels)}${']'.repeat(levels)}`;
    const send = (input: string) =>
      t
        .http()
        .post(`/v1/workflows/${id}/runs`)
        .set(t.auth)
        .set('content-type', 'application/json')
        .send(`{"input": ${input}}`);
    const before = await t.db.query('SELECT count(*)::int AS n FROM workflow_runs');
    for (const levels of [256, 5_000, 300_000]) {
      const res = await send(nested(levels));
      expectError(res, 400, 'invalid_json');
      expect(res.body.error.message).toBe('Body is nested deeper than 256 levels');
    }
    expect(await t.db.query('SELECT count(*)::int AS n FROM workflow_runs')).toEqual(before);
    expect((await send(nested(255))).status).toBe(202);
  });

  it('answers 404 run_not_found for unknown runs', async () => {
    expectError(
      await t.http().get('/v1/workflow-runs/0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a').set(t.auth),
      404,
      'run_not_found',
    );
    expectError(await t.http().get('/v1/workflow-runs/nope').set(t.auth), 404, 'run_not_found');
    expectError(await t.http().post('/v1/workflow-runs/nope/cancel').set(t.auth), 404, 'run_not_found');
  });

  it('lists runs newest first, filtered by workflow and status', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const ok = await start(id, { deals: [1, 2, 3] });
    const bad = await start(id, { deals: [] });
    await waitForRun(t, ok.body.data.id);
    await waitForRun(t, bad.body.data.id);

    const all = await t.http().get(`/v1/workflows/${id}/runs`).set(t.auth);
    expect(all.body.data.map((r: { id: string }) => r.id)).toEqual([bad.body.data.id, ok.body.data.id]);
    const failed = await t.http().get(`/v1/workflow-runs?workflowId=${id}&status=failed`).set(t.auth);
    expect(failed.body.data.map((r: { id: string }) => r.id)).toEqual([bad.body.data.id]);
    expect(failed.body.nextCursor).toBeNull();
    const paged = await t.http().get(`/v1/workflow-runs?workflowId=${id}&limit=1`).set(t.auth);
    expect(paged.body.data).toHaveLength(1);
    expect(paged.body.nextCursor).toEqual(expect.any(String));
    expectError(await t.http().get('/v1/workflow-runs?status=bogus').set(t.auth), 400, 'validation_failed');
  });

  it('retries a failed run from its failed step, keeping the completed steps, and 409s on others', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const failed = await waitForRun(t, (await start(id, { deals: [1] })).body.data.id);
    const scoreBefore = failed.steps.find((s) => s.id === 'score') as unknown as { finishedAt: string };

    const retried = await t.http().post(`/v1/workflow-runs/${failed.id}/retry`).set(t.auth);
    expect(retried.status).toBe(202);
    expect(retried.body.data.id).toBe(failed.id);
    const again = await waitForRun(t, failed.id, { statuses: ['failed', 'completed'] });
    expect(again.status).toBe('failed');
    const scoreAfter = again.steps.find((s) => s.id === 'score') as unknown as { finishedAt: string; status: string };
    expect(scoreAfter.status).toBe('completed');
    expect(scoreAfter.finishedAt).toBe(scoreBefore.finishedAt);
    const [{ attempt }] = await t.db.query('SELECT attempt FROM workflow_runs WHERE id = $1', [failed.id]);
    expect(attempt).toBe(2);

    const completed = await waitForRun(t, (await start(id, { deals: [1, 2, 3] })).body.data.id);
    expectError(await t.http().post(`/v1/workflow-runs/${completed.id}/retry`).set(t.auth), 409, 'run_not_failed');
  });

  it('reruns a run with the same input and workflow version, even after the workflow changed', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const original = await waitForRun(t, (await start(id, { companyId: 'x', deals: [1, 2, 3] })).body.data.id);
    await t
      .http()
      .patch(`/v1/workflows/${id}`)
      .set(t.auth)
      .send({ definition: { steps: [{ id: 'other', type: 'transform', expression: '"v2"' }] } })
      .expect(200);
    const rerun = await t.http().post(`/v1/workflow-runs/${original.id}/rerun`).set(t.auth);
    expect(rerun.status).toBe(202);
    expect(rerun.body.data).toEqual(
      expect.objectContaining({ rerunOf: original.id, workflowVersion: 1, trigger: { type: 'rerun' } }),
    );
    const done = await waitForRun(t, rerun.body.data.id);
    expect(done.output).toEqual({ company: 'x', score: 3 });

    const v2 = await waitForRun(t, (await start(id, {})).body.data.id);
    expect(v2).toEqual(expect.objectContaining({ workflowVersion: 2, output: 'v2' }));
  });
});

describe('cancelling runs', () => {
  let t: TestApp;

  beforeAll(async () => {
    // No worker: runs stay queued until cancelled.
    t = await startTestApp({ worker: false });
  });

  afterAll(async () => {
    await t.close();
  });

  it('cancels a queued run, which then never runs, and answers 409 run_finished after', async () => {
    const { id } = await createWorkflow(t, SCORE);
    const started = await t
      .http()
      .post(`/v1/workflows/${id}/runs`)
      .set(t.auth)
      .send({ input: { deals: [] } });
    const cancelled = await t.http().post(`/v1/workflow-runs/${started.body.data.id}/cancel`).set(t.auth);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toEqual(
      expect.objectContaining({ status: 'cancelled', completedAt: expect.any(String) }),
    );
    expectError(
      await t.http().post(`/v1/workflow-runs/${started.body.data.id}/cancel`).set(t.auth),
      409,
      'run_finished',
    );

    // A worker that starts now finds nothing to do for it.
    const worker = await startTestApp({ worker: true, queuePrefix: t.config.queuePrefix });
    try {
      const probe = await worker
        .http()
        .post(`/v1/workflows/${id}/runs`)
        .set(worker.auth)
        .send({ input: { deals: [1, 2, 3] } });
      await waitForRun(worker, probe.body.data.id);
      const [row] = await t.db.query('SELECT status, attempt FROM workflow_runs WHERE id = $1', [started.body.data.id]);
      expect(row).toEqual({ status: 'cancelled', attempt: 0 });
    } finally {
      await worker.close();
    }
  });
});
