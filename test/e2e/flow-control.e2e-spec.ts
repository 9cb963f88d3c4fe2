import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { createWorkflow } from '../support/factories.js';
import { expectError } from '../support/expect-error.js';
import { HttpSink } from '../support/http-sink.js';
import { KeySink } from '../support/key-sink.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

type Run = RunBody & {
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  concurrencyKey: string | null;
  throttleKey: string | null;
  debounceKey: string | null;
  supersededBy: string | null;
  queuedMs: number;
  input: { key?: string; n?: number };
};

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/** Pairs of runs whose [startedAt, completedAt] intervals overlap. */
function overlaps(runs: Run[]): [string, string][] {
  const sorted = [...runs].filter((r) => r.startedAt).sort((a, b) => ms(a.startedAt) - ms(b.startedAt));
  const found: [string, string][] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (ms(sorted[i].startedAt) < ms(sorted[i - 1].completedAt)) found.push([sorted[i - 1].id, sorted[i].id]);
  }
  return found;
}

/** The most runs that started within any window of `periodMs` (a window [t, t + periodMs) opening at each start). */
function maxStartsInWindow(runs: Run[], periodMs: number): number {
  const starts = runs.map((r) => ms(r.startedAt)).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < starts.length; i++) {
    let j = i;
    while (j < starts.length && starts[j] < starts[i] + periodMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('flow control: concurrency, throttle and debounce', () => {
  let t: TestApp;
  const sink = new KeySink(20);
  const held = new HttpSink();

  beforeAll(async () => {
    await sink.start();
    await held.start();
    sink.serve(['a', 'b', 'c']);
    held.hold('/slow');
    t = await startTestApp({
      env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1', WORKER_CONCURRENCY: '10', RECONCILE_INTERVAL_MS: '200' },
    });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t?.close();
    await sink.stop();
    await held.stop();
  });

  const start = async (workflowId: string, input: unknown): Promise<string> => {
    const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
    expect(res.status).toBe(202);
    return res.body.data.id as string;
  };
  const get = async (id: string): Promise<Run> =>
    (await t.http().get(`/v1/workflow-runs/${id}`).set(t.auth)).body.data as Run;
  const finished = async (ids: string[]): Promise<Run[]> =>
    Promise.all(ids.map((id) => waitForRun(t, id, { timeoutMs: 30_000 }) as Promise<Run>));

  const keyedCall = (url: string) => ({
    id: 'call',
    type: 'http',
    request: { method: 'POST', url: `${url}/key/{{ input.key }}`, body: 'input' },
  });

  describe('validation', () => {
    const refuse = async (extra: object, message: string) => {
      const res = await t
        .http()
        .post('/v1/workflows')
        .set(t.auth)
        .send({ name: 'bad', definition: { steps: [{ id: 's', type: 'transform', expression: '1' }], ...extra } });
      expectError(res, 400, 'invalid_definition');
      expect(res.body.error.message).toContain(message);
    };

    it('refuses limits, periods and keys out of their documented ranges, naming the field', async () => {
      await refuse({ concurrency: { limit: 0 } }, 'concurrency.limit must be an integer from 1 to 1000');
      await refuse({ concurrency: { limit: 1001 } }, 'concurrency.limit');
      await refuse({ concurrency: {} }, 'concurrency.limit is required');
      await refuse({ concurrency: { limit: 1, onLimit: 'drop' } }, 'concurrency.onLimit must be one of');
      await refuse({ concurrency: { limit: 1, key: 'input.(' } }, 'concurrency.key: expression does not compile');
      await refuse({ concurrency: { limit: 1, key: 'x'.repeat(1025) } }, 'concurrency.key must be at most 1024');
      await refuse({ concurrency: { limit: 1, group: 'x' } }, 'concurrency: unknown property "group"');
      await refuse({ throttle: { limit: 1, periodMs: 99 } }, 'throttle.periodMs must be an integer from 100');
      await refuse({ throttle: { limit: 1 } }, 'throttle.periodMs is required');
      await refuse({ debounce: { periodMs: 86_400_001 } }, 'debounce.periodMs');
      await refuse({ debounce: { periodMs: 1000, maxWaitMs: 999 } }, 'debounce.maxWaitMs must be an integer from 1000');
      await refuse({ debounce: 5 }, 'debounce must be an object');
    });

    it('stores a valid definition as written', async () => {
      const definition = {
        steps: [{ id: 's', type: 'transform', expression: '1' }],
        concurrency: { limit: 2, key: 'input.customer', onLimit: 'skip' },
        throttle: { limit: 5, periodMs: 1000 },
        debounce: { periodMs: 500, key: 'input.id', maxWaitMs: 2000 },
      };
      const res = await t.http().post('/v1/workflows').set(t.auth).send({ name: 'ok', definition });
      expect(res.status).toBe(201);
      expect(res.body.data.definition).toEqual(definition);
    });
  });

  describe('concurrency', () => {
    it('never overlaps runs of one key, runs other keys side by side, and starts waiting runs in arrival order', async () => {
      const workflow = await createWorkflow(t, {
        steps: [keyedCall(sink.url)],
        concurrency: { limit: 1, key: 'input.key' },
      });
      // The first run of each key holds its slot until all have arrived and wait: then every one of them queues.
      sink.closeGate();
      const ids: string[] = [];
      for (let n = 0; n < 24; n++) ids.push(await start(workflow.id, { key: n % 2 === 0 ? 'a' : 'b', n }));
      await waitUntil(
        async () => sink.openCount() === 2 && (await Promise.all(ids.map(get))).every((r) => r.concurrencyKey !== null),
        20_000,
        'one run of each key to hold its slot and the others to wait for it',
      );
      expect((await Promise.all(ids.map(get))).filter((r) => r.status === 'queued')).toHaveLength(22);
      sink.openGateNow();
      const runs = await finished(ids);
      expect(runs.map((r) => r.status)).toEqual(runs.map(() => 'completed'));
      for (const key of ['a', 'b']) {
        const ofKey = runs.filter((r) => r.input.key === key);
        expect(ofKey.every((r) => r.concurrencyKey === key)).toBe(true);
        expect(overlaps(ofKey)).toEqual([]);
        // Arrival order for the runs that waited (ids are time-ordered): each started after the one before it.
        // Which run took the free slot first is decided as workers pick the burst up at once (docs/workflows.md).
        const byStart = [...ofKey].sort((x, y) => ms(x.startedAt) - ms(y.startedAt)).map((r) => r.id);
        const waited = byStart.slice(1);
        expect(waited).toEqual(ofKey.map((r) => r.id).filter((id) => waited.includes(id)));
        expect(sink.maxOpen.get(key)).toBe(1);
      }
      // The two keys did run side by side at some moment.
      const a = runs.filter((r) => r.input.key === 'a');
      const b = runs.filter((r) => r.input.key === 'b');
      expect(
        a.some((x) => b.some((y) => ms(x.startedAt) < ms(y.completedAt) && ms(y.startedAt) < ms(x.completedAt))),
      ).toBe(true);
      // A waiting run shows how long it waited.
      expect(Math.max(...runs.map((r) => r.queuedMs))).toBeGreaterThan(0);
    });

    it('skip: a run arriving at the limit ends cancelled with concurrency_limit', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 'slow', type: 'http', request: { method: 'POST', url: `${held.url}/slow` } }],
        concurrency: { limit: 1, onLimit: 'skip' },
      });
      const first = await start(workflow.id, { n: 1 });
      await waitUntil(async () => held.to('/slow').length === 1, 10_000, 'the first run to hold its slot');
      const second = await waitForRun(t, await start(workflow.id, { n: 2 }));
      expect(second.status).toBe('cancelled');
      expect(second.error?.code).toBe('concurrency_limit');
      expect((second as Run).concurrencyKey).toBe('');
      expect((second as Run).startedAt).toBeNull();
      held.releaseAll();
      expect((await waitForRun(t, first)).status).toBe('completed');
    });

    it('cancel-running: the oldest running run is cancelled as superseded, its in-flight step aborted', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 'slow', type: 'http', request: { method: 'POST', url: `${held.url}/slow` }, timeoutMs: 20_000 }],
        concurrency: { limit: 1, key: 'input.key', onLimit: 'cancel-running' },
      });
      const before = held.to('/slow').length;
      const old = await start(workflow.id, { key: 'c', n: 1 });
      await waitUntil(async () => held.to('/slow').length === before + 1, 10_000, 'the old run to be in its step');
      const newer = await start(workflow.id, { key: 'c', n: 2 });
      const superseded = (await waitForRun(t, old)) as Run;
      expect(superseded.status).toBe('cancelled');
      expect(superseded.error?.code).toBe('superseded');
      expect(superseded.supersededBy).toBe(newer);
      // The old run's request was aborted when it was cancelled, while the newer one holds its own.
      await waitUntil(async () => held.to('/slow')[before].aborted, 10_000, 'the in-flight request to be aborted');
      await waitUntil(async () => held.to('/slow').length === before + 2, 10_000, 'the newer run to start');
      expect((await get(newer)).status).toBe('running');
      held.releaseAll();
      const done = (await waitForRun(t, newer)) as Run;
      expect(done.status).toBe('completed');
      expect(ms(done.startedAt)).toBeGreaterThanOrEqual(ms(superseded.completedAt));
    });

    it('cancel-running also ends a run waiting in a delay step (it holds its slot while it waits)', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 'wait', type: 'delay', durationMs: 60_000 }],
        concurrency: { limit: 1, onLimit: 'cancel-running' },
      });
      const old = await start(workflow.id, { n: 1 });
      await waitUntil(
        async () => (await get(old)).steps.some((s) => s.status === 'waiting'),
        10_000,
        'the old run to wait in its delay',
      );
      const newer = await start(workflow.id, { n: 2 });
      const superseded = (await waitForRun(t, old)) as Run;
      expect(superseded).toEqual(
        expect.objectContaining({
          status: 'cancelled',
          supersededBy: newer,
          error: expect.objectContaining({ code: 'superseded' }),
        }),
      );
      expect(superseded.steps.map((s) => s.status)).toEqual(['skipped']);
      await waitUntil(async () => (await get(newer)).status === 'running', 10_000, 'the newer run to start');
      expect((await t.http().post(`/v1/workflow-runs/${newer}/cancel`).set(t.auth)).status).toBe(200);
    });

    it('a queued run cancelled through the API lets the next one of its key go on', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 'slow', type: 'http', request: { method: 'POST', url: `${held.url}/slow` } }],
        concurrency: { limit: 1 },
      });
      const before = held.to('/slow').length;
      const first = await start(workflow.id, { n: 1 });
      await waitUntil(async () => held.to('/slow').length === before + 1, 10_000, 'the first run to start');
      const second = await start(workflow.id, { n: 2 });
      const third = await start(workflow.id, { n: 3 });
      await waitUntil(
        async () => (await get(third)).concurrencyKey === '',
        10_000,
        'the third run to wait for its key',
      );
      expect((await get(second)).status).toBe('queued');
      expect((await t.http().post(`/v1/workflow-runs/${first}/cancel`).set(t.auth)).status).toBe(200);
      await waitUntil(async () => (await get(second)).status === 'running', 10_000, 'the second run to start');
      expect((await get(third)).status).toBe('queued');
      expect((await t.http().post(`/v1/workflow-runs/${second}/cancel`).set(t.auth)).status).toBe(200);
      await waitUntil(async () => held.to('/slow').length === before + 3, 10_000, 'the third run to start');
      held.releaseAll();
      expect((await waitForRun(t, third)).status).toBe('completed');
    });

    it('fails a run whose key does not evaluate to a string, number or boolean with flow_key_failed', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 's', type: 'transform', expression: '1' }],
        concurrency: { limit: 1, key: 'input.customer' },
      });
      const run = await waitForRun(t, await start(workflow.id, { other: 1 }));
      expect(run.status).toBe('failed');
      expect(run.error).toEqual({
        code: 'flow_key_failed',
        message: 'concurrency.key must evaluate to a string, number or boolean, got no value',
        stepId: null,
      });
      const ok = await waitForRun(t, await start(workflow.id, { customer: 42 }));
      expect(ok.status).toBe('completed');
      expect((ok as Run).concurrencyKey).toBe('42');
    });
  });

  describe('throttle', () => {
    it('starts at most `limit` runs of a key in any window of periodMs, the rest in order', async () => {
      const periodMs = 1500;
      const workflow = await createWorkflow(t, {
        steps: [{ id: 's', type: 'transform', expression: 'input.n' }],
        throttle: { limit: 2, periodMs, key: 'input.key' },
      });
      const ids: string[] = [];
      for (let n = 0; n < 8; n++) ids.push(await start(workflow.id, { key: n < 6 ? 'x' : 'y', n }));
      const runs = await finished(ids);
      expect(runs.every((r) => r.status === 'completed')).toBe(true);
      const x = runs.filter((r) => r.input.key === 'x');
      expect(x.every((r) => r.throttleKey === 'x')).toBe(true);
      expect(maxStartsInWindow(x, periodMs)).toBeLessThanOrEqual(2);
      // The runs that waited for the window start in arrival order, two per window (within one window, the two
      // admitted together may take their start times in either order). Which two go first is decided as the
      // workers pick them up at the same instant, before their keys are stored (docs/workflows.md).
      const byStart = [...x].sort((p, q) => ms(p.startedAt) - ms(q.startedAt)).map((r) => r.id);
      const waited = byStart.slice(2);
      const inArrivalOrder = x.map((r) => r.id).filter((id) => waited.includes(id));
      const pairs = (ids: string[]) => [0, 2].map((i) => ids.slice(i, i + 2).sort());
      expect(pairs(waited)).toEqual(pairs(inArrivalOrder));
      // The third start of the key waited for the first to leave the window.
      const starts = x.map((r) => ms(r.startedAt)).sort((p, q) => p - q);
      expect(starts[2] - starts[0]).toBeGreaterThanOrEqual(periodMs);
    });
  });

  describe('debounce', () => {
    it('three quick deliveries: the last one runs with its input, the two before it are debounced in a chain', async () => {
      const workflow = await createWorkflow(t, {
        steps: [{ id: 's', type: 'transform', expression: 'input.n' }],
        output: 'steps.s.output',
        debounce: { periodMs: 1500, key: 'input.record' },
      });
      const ids = [];
      for (let n = 1; n <= 3; n++) ids.push(await start(workflow.id, { record: 'r1', n }));
      const other = await start(workflow.id, { record: 'r2', n: 9 });
      const [first, second, third] = await finished(ids);
      expect([first.status, second.status, third.status]).toEqual(['cancelled', 'cancelled', 'completed']);
      expect(first.error?.code).toBe('debounced');
      expect(first.supersededBy).toBe(second.id);
      expect(second.error?.code).toBe('debounced');
      expect(second.supersededBy).toBe(third.id);
      expect(third.output).toBe(3);
      expect(third.debounceKey).toBe('r1');
      expect(third.supersededBy).toBeNull();
      // It waited out the period after it arrived.
      expect(third.queuedMs).toBeGreaterThanOrEqual(1500);
      // Another key is not affected.
      expect((await waitForRun(t, other)).output).toBe(9);
    });

    it('maxWaitMs: a steady stream of deliveries still starts a run', async () => {
      const periodMs = 1000;
      const workflow = await createWorkflow(t, {
        steps: [{ id: 's', type: 'transform', expression: 'input.n' }],
        debounce: { periodMs, maxWaitMs: 2000 },
      });
      const ids: string[] = [];
      // Deliveries keep coming, each well within the period of the one before, until a run has started.
      let n = 0;
      await waitUntil(
        async () => {
          ids.push(await start(workflow.id, { n: n++ }));
          return (await Promise.all(ids.map(get))).some((r) => r.startedAt !== null);
        },
        20_000,
        'a run to start while deliveries keep coming',
      );
      const runs = await finished(ids);
      const ran = runs.filter((r) => r.status === 'completed').sort((a, b) => ms(a.startedAt) - ms(b.startedAt))[0];
      const before = runs.filter((r) => ms(r.createdAt) <= ms(ran.createdAt));
      // Up to its start no gap between deliveries reached the period: only the maximum wait can have started it.
      const gaps = before.slice(1).map((r, i) => ms(r.createdAt) - ms(before[i].createdAt));
      expect(Math.max(...gaps)).toBeLessThan(periodMs);
      expect(before.slice(0, -1).every((r) => r.status === 'cancelled' && r.error?.code === 'debounced')).toBe(true);
      expect(before.length).toBeGreaterThan(2);
    });
  });

  it('shows the flow-control fields on runs of workflows without flow control too', async () => {
    const workflow = await createWorkflow(t);
    const run = (await waitForRun(t, await start(workflow.id, { n: 2 }))) as Run;
    expect(run).toEqual(
      expect.objectContaining({
        concurrencyKey: null,
        throttleKey: null,
        debounceKey: null,
        supersededBy: null,
        queuedMs: expect.any(Number),
      }),
    );
    const list = await t.http().get(`/v1/workflow-runs?workflowId=${workflow.id}`).set(t.auth);
    expect(list.body.data[0]).toEqual(expect.objectContaining({ concurrencyKey: null, queuedMs: expect.any(Number) }));
  });
});
