import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { expectError } from '../support/expect-error.js';
import { createWorkflow } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

const DELAY = { steps: [{ id: 'pause', type: 'delay', durationMs: 60_000 }] };

describe('runs list filters, changes feed and run stats', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const start = async (workflowId: string, input: unknown = { n: 1 }): Promise<RunBody> => {
    const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
    expect(res.status).toBe(202);
    return waitForRun(t, res.body.data.id);
  };
  const list = (query: Record<string, string>) => t.http().get('/v1/workflow-runs').query(query).set(t.auth);
  const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((r) => r.id);

  it('filters by created range (from inclusive, to exclusive) and trigger type, with the workflow name', async () => {
    const { id: workflowId } = await createWorkflow(t);
    await t.http().patch(`/v1/workflows/${workflowId}`).set(t.auth).send({ name: 'Range workflow' }).expect(200);
    const first = await start(workflowId);
    const second = await start(workflowId);
    const rerun = await t.http().post(`/v1/workflow-runs/${first.id}/rerun`).set(t.auth).expect(202);
    await waitForRun(t, rerun.body.data.id);

    const all = await list({ workflowId });
    expect(all.status).toBe(200);
    expect(ids(all)).toEqual([rerun.body.data.id, second.id, first.id]);
    expect(all.body.data[0]).toEqual(expect.objectContaining({ workflowId, workflowName: 'Range workflow' }));

    const fromSecond = await list({ workflowId, createdFrom: second.createdAt as string });
    expect(ids(fromSecond)).toEqual([rerun.body.data.id, second.id]);
    const beforeSecond = await list({ workflowId, createdTo: second.createdAt as string });
    expect(ids(beforeSecond)).toEqual([first.id]);
    const between = await list({
      workflowId,
      createdFrom: first.createdAt as string,
      createdTo: rerun.body.data.createdAt as string,
    });
    expect(ids(between)).toEqual([second.id, first.id]);

    expect(ids(await list({ workflowId, triggerType: 'rerun' }))).toEqual([rerun.body.data.id]);
    expect(ids(await list({ workflowId, triggerType: 'api', status: 'completed' }))).toEqual([second.id, first.id]);
    expect(ids(await list({ workflowId, triggerType: 'webhook' }))).toEqual([]);

    const page = await list({ workflowId, triggerType: 'api', limit: '1' });
    expect(ids(page)).toEqual([second.id]);
    const next = await list({ workflowId, triggerType: 'api', limit: '1', cursor: page.body.nextCursor as string });
    expect(ids(next)).toEqual([first.id]);
    expect(next.body.nextCursor).toBeNull();
  });

  it('refuses bad times, a reversed range and an unknown trigger type with validation_failed', async () => {
    expectError(await list({ createdFrom: 'yesterday' }), 400, 'validation_failed');
    expectError(await list({ createdTo: '2026-13-01T00:00:00Z' }), 400, 'validation_failed');
    expectError(
      await list({ createdFrom: '2026-11-28T00:00:00Z', createdTo: '2026-11-27T00:00:00Z' }),
      400,
      'validation_failed',
    );
    expectError(await list({ triggerType: 'cron' }), 400, 'validation_failed');
    const empty = await list({ createdFrom: '2026-11-27T00:00:00Z', createdTo: '2026-11-27T00:00:00Z' });
    expect(empty.body).toEqual({ data: [], nextCursor: null });
  });

  it('sends runs created or changed since a token, with their status changes, to API keys only', async () => {
    const { id: workflowId } = await createWorkflow(t, DELAY);
    await start((await createWorkflow(t)).id);
    const begin = await t.http().get('/v1/workflow-runs/changes').set(t.auth);
    expect(begin.status).toBe(200);
    expect(begin.body).toEqual({ data: [], nextToken: expect.any(String) });

    const started = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input: {} });
    const runId = started.body.data.id as string;
    await waitForRun(t, runId, { statuses: ['running'] });
    let token = begin.body.nextToken as string;
    const seen = new Map<string, string>();
    const poll = async (query: Record<string, string> = {}): Promise<void> => {
      const res = await t
        .http()
        .get('/v1/workflow-runs/changes')
        .query({ ...query, since: token })
        .set(t.auth);
      expect(res.status).toBe(200);
      for (const run of res.body.data as { id: string; status: string; workflowId: string; workflowName: string }[]) {
        seen.set(run.id, run.status);
        expect(run.workflowName).toEqual(run.workflowId === workflowId ? 'test workflow' : expect.any(String));
        if (query.workflowId) expect(run.workflowId).toBe(workflowId);
      }
      token = res.body.nextToken;
    };
    await waitUntil(async () => (await poll(), seen.get(runId) === 'running'), 10_000, 'the running run');

    const before = await t.db.query(`SELECT updated_at FROM workflow_runs WHERE id = $1`, [runId]);
    await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth).expect(200);
    const after = await t.db.query(`SELECT updated_at FROM workflow_runs WHERE id = $1`, [runId]);
    expect(after[0].updated_at.getTime()).toBeGreaterThan(before[0].updated_at.getTime());
    await waitUntil(async () => (await poll({ workflowId }), seen.get(runId) === 'cancelled'), 10_000, 'the cancel');

    const other = await t
      .http()
      .get('/v1/workflow-runs/changes')
      .query({ since: token, status: 'completed', workflowId });
    expect(other.status).toBe(401);
  });

  it('pages a backlog of changes through nextToken, each change at least once', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const begin = await t.http().get('/v1/workflow-runs/changes').set(t.auth);
    const runs = [await start(workflowId), await start(workflowId), await start(workflowId)];
    let token = begin.body.nextToken as string;
    const seen = new Set<string>();
    await waitUntil(
      async () => {
        const res = await t
          .http()
          .get('/v1/workflow-runs/changes')
          .query({ since: token, workflowId, limit: '1' })
          .set(t.auth);
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(1);
        for (const run of res.body.data as { id: string; status: string }[]) {
          if (run.status === 'completed') seen.add(run.id);
        }
        token = res.body.nextToken;
        return runs.every((r) => seen.has(r.id));
      },
      10_000,
      'every run through pages of one',
    );
  });

  it('refuses a token it did not make', async () => {
    const res = await t.http().get('/v1/workflow-runs/changes').query({ since: 'bm90IGEgdG9rZW4' }).set(t.auth);
    expectError(res, 400, 'validation_failed');
  });

  it('counts the runs of the last hours by status, for one workflow and for several', async () => {
    const { id: busy } = await createWorkflow(t, {
      steps: [
        { id: 'gate', type: 'condition', expression: 'input.n > 1', then: 'bad', else: null },
        { id: 'bad', type: 'fail', message: 'no' },
      ],
    });
    const { id: idle } = await createWorkflow(t);
    await start(busy, { n: 1 });
    await start(busy, { n: 1 });
    await start(busy, { n: 2 });

    const one = await t.http().get(`/v1/workflows/${busy}/run-stats`).set(t.auth);
    expect(one.status).toBe(200);
    expect(one.body.data).toEqual({
      workflowId: busy,
      from: expect.any(String),
      to: expect.any(String),
      counts: { queued: 0, running: 0, completed: 2, failed: 1, cancelled: 0 },
    });
    expect(Date.parse(one.body.data.to) - Date.parse(one.body.data.from)).toBe(24 * 3_600_000);

    const many = await t
      .http()
      .get('/v1/workflow-run-stats')
      .query({ workflowIds: `${idle},${busy}`, hours: '1' })
      .set(t.auth);
    expect(many.status).toBe(200);
    expect(
      many.body.data.map((s: { workflowId: string; counts: { completed: number } }) => [
        s.workflowId,
        s.counts.completed,
      ]),
    ).toEqual([
      [idle, 0],
      [busy, 2],
    ]);

    expectError(
      await t.http().get(`/v1/workflows/${busy}/run-stats`).query({ hours: '0' }).set(t.auth),
      400,
      'validation_failed',
    );
    expectError(
      await t.http().get('/v1/workflow-run-stats').query({ workflowIds: 'nope' }).set(t.auth),
      400,
      'validation_failed',
    );
    expectError(await t.http().get('/v1/workflow-run-stats').set(t.auth), 400, 'validation_failed');
    const tooMany = Array.from({ length: 101 }, (_, i) => `0193a8f2-5b7e-7c3d-9a61-${String(i).padStart(12, '0')}`);
    expectError(
      await t
        .http()
        .get('/v1/workflow-run-stats')
        .query({ workflowIds: tooMany.join(',') })
        .set(t.auth),
      400,
      'validation_failed',
    );
    expectError(
      await t.http().get('/v1/workflows/0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a/run-stats').set(t.auth),
      404,
      'workflow_not_found',
    );
  });
});
