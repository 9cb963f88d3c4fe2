import { afterAll, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { v7 as uuidv7 } from 'uuid';

import { RunRetentionRepository } from '../../src/modules/runs/run-retention.repository.js';
import { RUN_PRUNE_BATCH_SIZE, RunsPruner } from '../../src/modules/runs/runs.pruner.js';
import { expectError } from '../support/expect-error.js';
import { createWorkflow, ONE_STEP_DEFINITION } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait-for.js';

const DAY_MS = 86_400_000;
const FINISHED = ['completed', 'failed', 'cancelled'] as const;

interface AgedRun {
  status: 'queued' | 'running' | (typeof FINISHED)[number];
  /** When it was created, in days before now; a UUIDv7 of that time is its id, as the app mints them. */
  createdDaysAgo: number;
  /** When it ended; finished runs only. */
  completedDaysAgo?: number;
  rerunOf?: string;
}

// The reconciler would enqueue the unfinished runs inserted here and a worker would finish them.
const ENV = { RUN_RETENTION_DAYS: '30', RECONCILE_INTERVAL_MS: '0' };

describe('run retention', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: ENV });
  });

  afterAll(async () => {
    await t.close();
  });

  beforeEach(async () => {
    await resetDatabase(t.db);
  });

  const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

  /** Inserted as the app stores them, backdated, with two steps each. */
  const insertRuns = async (workflowId: string, runs: AgedRun[]): Promise<string[]> => {
    const rows = runs.map((run) => {
      const created = daysAgo(run.createdDaysAgo);
      const finished = (FINISHED as readonly string[]).includes(run.status);
      return {
        id: uuidv7({ msecs: created.getTime() }),
        status: run.status,
        created_at: created.toISOString(),
        started_at: run.status === 'queued' ? null : created.toISOString(),
        completed_at: finished ? daysAgo(run.completedDaysAgo ?? run.createdDaysAgo).toISOString() : null,
        rerun_of: run.rerunOf ?? null,
      };
    });
    await t.db.query(
      `INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, rerun_of, input,
                                  created_at, started_at, completed_at)
       SELECT r.id, $2, 1, r.status, CASE WHEN r.rerun_of IS NULL THEN 'api' ELSE 'rerun' END, r.rerun_of, '{}',
              r.created_at, r.started_at, r.completed_at
         FROM json_to_recordset($1::json) AS r(id uuid, status text, created_at timestamptz, started_at timestamptz,
              completed_at timestamptz, rerun_of uuid)`,
      [JSON.stringify(rows), workflowId],
    );
    await t.db.query(
      `INSERT INTO workflow_run_steps (run_id, step_id, position, type, status)
       SELECT id, step, position, 'transform', 'completed'
         FROM unnest($1::uuid[]) AS id, unnest(ARRAY['a', 'b']) WITH ORDINALITY AS s(step, position)`,
      [rows.map((row) => row.id)],
    );
    return rows.map((row) => row.id);
  };

  const existing = async (ids: string[]): Promise<string[]> => {
    const rows: { id: string }[] = await t.db.query('SELECT id FROM workflow_runs WHERE id = ANY($1)', [ids]);
    return rows.map((row) => row.id).sort();
  };

  const stepCounts = async (ids: string[]): Promise<Record<string, number>> => {
    const rows: { run_id: string; count: number }[] = await t.db.query(
      'SELECT run_id, count(*)::int AS count FROM workflow_run_steps WHERE run_id = ANY($1) GROUP BY run_id',
      [ids],
    );
    return Object.fromEntries(rows.map((row) => [row.run_id, row.count]));
  };

  const countRuns = async (): Promise<number> =>
    (await t.db.query('SELECT count(*)::int AS count FROM workflow_runs'))[0].count as number;

  const countSteps = async (): Promise<number> =>
    (await t.db.query('SELECT count(*)::int AS count FROM workflow_run_steps'))[0].count as number;

  const prune = () => t.app.get(RunsPruner).prune();

  it('deletes the finished runs that ended before RUN_RETENTION_DAYS, with their steps, and nothing else', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const expired = await insertRuns(workflowId, [
      { status: 'completed', createdDaysAgo: 40 },
      { status: 'failed', createdDaysAgo: 31, completedDaysAgo: 30.01 },
      { status: 'cancelled', createdDaysAgo: 365 },
    ]);
    const kept = await insertRuns(workflowId, [
      // Unfinished runs stay, however old.
      { status: 'queued', createdDaysAgo: 400 },
      { status: 'running', createdDaysAgo: 400 },
      // Retention counts from the end of a run, not from its start.
      { status: 'completed', createdDaysAgo: 45, completedDaysAgo: 29.99 },
      { status: 'failed', createdDaysAgo: 1 },
      { status: 'completed', createdDaysAgo: 0 },
    ]);

    expect(await prune()).toEqual({ deleted: 3, yielded: false });

    expect(await existing([...expired, ...kept])).toEqual([...kept].sort());
    expect(await stepCounts([...expired, ...kept])).toEqual(Object.fromEntries(kept.map((id) => [id, 2])));
    expectError(await t.http().get(`/v1/workflow-runs/${expired[0]}`).set(t.auth), 404, 'run_not_found');
    const queued = await t.http().get(`/v1/workflow-runs/${kept[0]}`).set(t.auth).expect(200);
    expect(queued.body.data).toMatchObject({ status: 'queued', completedAt: null });

    // A second pass finds nothing more.
    expect(await prune()).toEqual({ deleted: 0, yielded: false });
  });

  it("follows a workflow's runRetentionDays, shorter or longer than RUN_RETENTION_DAYS, 0 keeping runs forever", async () => {
    const created = async (runRetentionDays?: number | null) => {
      const res = await t
        .http()
        .post('/v1/workflows')
        .set(t.auth)
        .send({
          name: 'kept',
          definition: ONE_STEP_DEFINITION,
          ...(runRetentionDays === undefined ? {} : { runRetentionDays }),
        })
        .expect(201);
      return res.body.data.id as string;
    };
    const short = await created();
    await t.http().patch(`/v1/workflows/${short}`).set(t.auth).send({ runRetentionDays: 7 }).expect(200);
    const long = await created(90);
    const forever = await created(0);
    const global = await created(null);
    const deleted = await created(90);
    // A deleted workflow's runs stay readable, so they age out like any other's: by its own setting.
    await t.http().delete(`/v1/workflows/${deleted}`).set(t.auth).expect(204);

    const ages = [{ days: 10 }, { days: 60 }, { days: 100 }];
    const runs = new Map<string, string[]>();
    for (const workflowId of [short, long, forever, global, deleted]) {
      runs.set(
        workflowId,
        await insertRuns(
          workflowId,
          ages.map(({ days }) => ({ status: 'completed', createdDaysAgo: days })),
        ),
      );
    }
    const byAge = (workflowId: string, ...indexes: number[]) => indexes.map((i) => runs.get(workflowId)![i]);

    expect(await prune()).toEqual({ deleted: 3 + 1 + 0 + 2 + 1, yielded: false });

    const all = [...runs.values()].flat();
    expect(await existing(all)).toEqual(
      [...byAge(long, 0, 1), ...byAge(forever, 0, 1, 2), ...byAge(global, 0), ...byAge(deleted, 0, 1)].sort(),
    );
  });

  it('takes runRetentionDays on POST and PATCH (null: the global setting) and refuses what it cannot keep', async () => {
    const res = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'w', definition: ONE_STEP_DEFINITION })
      .expect(201);
    const id = res.body.data.id as string;
    expect(res.body.data.runRetentionDays).toBeNull();

    const patch = (body: object) => t.http().patch(`/v1/workflows/${id}`).set(t.auth).send(body);
    expect((await patch({ runRetentionDays: 3 }).expect(200)).body.data.runRetentionDays).toBe(3);
    expect((await t.http().get(`/v1/workflows/${id}`).set(t.auth).expect(200)).body.data.runRetentionDays).toBe(3);
    // Other changes leave it as it is.
    expect((await patch({ name: 'renamed' }).expect(200)).body.data.runRetentionDays).toBe(3);
    expect((await patch({ runRetentionDays: 0 }).expect(200)).body.data.runRetentionDays).toBe(0);
    expect((await patch({ runRetentionDays: 3650 }).expect(200)).body.data.runRetentionDays).toBe(3650);
    expect((await patch({ runRetentionDays: null }).expect(200)).body.data.runRetentionDays).toBeNull();

    for (const runRetentionDays of [1, 2, 3651, -1, 2.5, '30', true]) {
      const refused = await patch({ runRetentionDays });
      expectError(refused, 400, 'validation_failed');
      expect(refused.body.error.details.map((d: { field: string }) => d.field)).toContain('runRetentionDays');
    }
    expectError(
      await t
        .http()
        .post('/v1/workflows')
        .set(t.auth)
        .send({ name: 'w', definition: ONE_STEP_DEFINITION, runRetentionDays: 1 }),
      400,
      'validation_failed',
    );
    expect((await t.http().get(`/v1/workflows/${id}`).set(t.auth).expect(200)).body.data.runRetentionDays).toBeNull();
  });

  it('clears rerunOf on reruns that outlive their original, and deletes a chain of expired reruns at once', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const [original, chainStart] = await insertRuns(workflowId, [
      { status: 'completed', createdDaysAgo: 60 },
      { status: 'failed', createdDaysAgo: 80 },
    ]);
    const [queuedRerun, recentRerun, expiredRerun] = await insertRuns(workflowId, [
      { status: 'queued', createdDaysAgo: 0, rerunOf: original },
      { status: 'completed', createdDaysAgo: 1, rerunOf: original },
      { status: 'completed', createdDaysAgo: 70, rerunOf: chainStart },
    ]);
    const [chainEnd] = await insertRuns(workflowId, [{ status: 'failed', createdDaysAgo: 50, rerunOf: expiredRerun }]);

    expect(await prune()).toEqual({ deleted: 4, yielded: false });

    expect(await existing([original, chainStart, queuedRerun, recentRerun, expiredRerun, chainEnd])).toEqual(
      [queuedRerun, recentRerun].sort(),
    );
    for (const id of [queuedRerun, recentRerun]) {
      const run = (await t.http().get(`/v1/workflow-runs/${id}`).set(t.auth).expect(200)).body.data;
      expect(run).toMatchObject({ rerunOf: null, trigger: { type: 'rerun' } });
    }
  });

  it('answers 404 run_not_found to a rerun of a run whose deletion commits while the rerun waits for it', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const [original] = await insertRuns(workflowId, [{ status: 'completed', createdDaysAgo: 60 }]);
    // The deletion the pruner makes, held open in a transaction of its own.
    const deleter = t.db.createQueryRunner();
    await deleter.connect();
    try {
      await deleter.startTransaction();
      await deleter.query('DELETE FROM workflow_run_steps WHERE run_id = $1', [original]);
      await deleter.query('DELETE FROM workflow_runs WHERE id = $1', [original]);
      const rerun = t
        .http()
        .post(`/v1/workflow-runs/${original}/rerun`)
        .set(t.auth)
        .then((res) => res);
      // The rerun's insert waits for the deleting transaction's row lock.
      await waitUntil(
        async () =>
          (
            await t.db.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO workflow_runs%rerun%'`,
            )
          )[0].n > 0,
        10_000,
        'the rerun to wait for the deleted run',
      );
      await deleter.commitTransaction();
      expectError(await rerun, 404, 'run_not_found');
    } finally {
      await deleter.release();
    }
    expect(await countRuns()).toBe(0);
  });

  it('deletes a backlog larger than one batch in several statements, keeping the unfinished runs among it', async () => {
    const [a, b] = [(await createWorkflow(t)).id, (await createWorkflow(t)).id];
    const backlog = Math.floor(RUN_PRUNE_BATCH_SIZE * 2.5);
    const old = (n: number, status: AgedRun['status']): AgedRun[] =>
      Array.from({ length: n }, (_, i) => ({ status, createdDaysAgo: 40 + i / 100 }));
    await insertRuns(a, old(backlog, 'completed'));
    const unfinished = await insertRuns(a, [...old(2, 'queued'), ...old(2, 'running')]);
    await insertRuns(b, old(RUN_PRUNE_BATCH_SIZE, 'failed'));
    const young = await insertRuns(b, [{ status: 'completed', createdDaysAgo: 2 }]);
    const batches = jest.spyOn(t.app.get(RunRetentionRepository), 'deleteFinishedBefore');

    try {
      expect(await prune()).toEqual({ deleted: backlog + RUN_PRUNE_BATCH_SIZE, yielded: false });
      // Workflow a: three batches (the last one partial); b: a full batch, then an empty one that ends it.
      expect(batches.mock.calls.map(([workflowId]) => workflowId).sort()).toEqual([a, a, a, b, b].sort());
    } finally {
      batches.mockRestore();
    }
    expect(await countRuns()).toBe(unfinished.length + young.length);
    expect(await countSteps()).toBe(2 * (unfinished.length + young.length));
  });

  it('two processes pruning at once delete each expired run once, without an error', async () => {
    const other = await startTestApp({ env: ENV });
    try {
      const workflows = [(await createWorkflow(t)).id, (await createWorkflow(t)).id, (await createWorkflow(t)).id];
      const expired = RUN_PRUNE_BATCH_SIZE + 500;
      for (const workflowId of workflows) {
        await insertRuns(
          workflowId,
          Array.from({ length: expired }, (_, i) => ({ status: 'completed', createdDaysAgo: 31 + i / 1000 })),
        );
        await insertRuns(workflowId, [{ status: 'running', createdDaysAgo: 90 }]);
      }

      const results = await Promise.all([prune(), other.app.get(RunsPruner).prune()]);

      expect(results[0].deleted + results[1].deleted).toBe(3 * expired);
      expect(await countRuns()).toBe(workflows.length);
      expect(await countSteps()).toBe(2 * workflows.length);
      // Whichever stopped for the other, a later pass finds nothing left.
      expect(await other.app.get(RunsPruner).prune()).toEqual({ deleted: 0, yielded: false });
    } finally {
      await other.close();
    }
  });

  it('keeps every finished run when RUN_RETENTION_DAYS is 0, unless its workflow sets a retention', async () => {
    const forever = await startTestApp({ env: { ...ENV, RUN_RETENTION_DAYS: '0' } });
    try {
      const { id: global } = await createWorkflow(t);
      const own = (
        await t
          .http()
          .post('/v1/workflows')
          .set(t.auth)
          .send({ name: 'own', definition: ONE_STEP_DEFINITION, runRetentionDays: 30 })
          .expect(201)
      ).body.data.id as string;
      const kept = await insertRuns(global, [{ status: 'completed', createdDaysAgo: 3000 }]);
      const [expired] = await insertRuns(own, [{ status: 'completed', createdDaysAgo: 31 }]);

      expect(await forever.app.get(RunsPruner).prune()).toEqual({ deleted: 1, yielded: false });
      expect(await existing([...kept, expired])).toEqual(kept);
    } finally {
      await forever.close();
    }
  });
});
