import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { HttpSink } from '../support/http-sink.js';
import { KeySink } from '../support/key-sink.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { signedHeaders } from '../support/signing.js';
import { testQueuePrefix } from '../support/test-app.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

interface Run {
  id: string;
  status: string;
  startedAt: string | null;
  completedAt: string | null;
  concurrencyKey: string | null;
  input: { key: string; n: number };
}

const ms = (iso: string | null): number => (iso === null ? NaN : Date.parse(iso));

/** Runs of one key whose [startedAt, completedAt] intervals overlap (each checked against the one before it). */
function overlapping(runs: Run[]): string[] {
  const sorted = [...runs].sort((a, b) => ms(a.startedAt) - ms(b.startedAt));
  return sorted.slice(1).flatMap((run, i) => (ms(run.startedAt) < ms(sorted[i].completedAt) ? [run.id] : []));
}

/**
 * The quality bar of concurrency keys: separate API and worker processes (two workers) on PostgreSQL and a Redis of
 * this test's own (it is killed and emptied), with an http step against a sink that counts open requests per key.
 */
describe('concurrency keys across two worker processes', () => {
  const sink = new KeySink(5);
  const slow = new HttpSink();
  let redis: OwnRedis;
  let env: Record<string, string>;
  let api: HookrunProcess;
  const workers: HookrunProcess[] = [];
  const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    await ensureTestDatabase();
    await sink.start();
    await slow.start();
    redis = await startOwnRedis();
    env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: redis.url,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: testQueuePrefix(),
      LOG_LEVEL: 'warn',
      HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
      RECONCILE_INTERVAL_MS: '250',
      WORKER_LOCK_MS: '2000',
      WORKER_CONCURRENCY: '20',
    };
    api = await startHookrun(['api'], env);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await api?.stop('SIGKILL');
    await redis?.stop();
    await sink.stop();
    await slow.stop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${api.baseUrl}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    return { status: res.status, body: await res.json() };
  };

  async function webhookWorkflow(definition: object): Promise<{ path: string; secret: string }> {
    const workflow = await call('/v1/workflows', {
      method: 'POST',
      body: JSON.stringify({ name: 'flow processes', definition }),
    });
    expect(workflow.status).toBe(201);
    const trigger = await call(`/v1/workflows/${workflow.body.data.id}/trigger/webhook`, {
      method: 'POST',
      body: '{}',
    });
    return { path: new URL(trigger.body.data.url as string).pathname, secret: trigger.body.data.secret as string };
  }

  async function deliver(hook: { path: string; secret: string }, inputs: object[]): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < inputs.length; i += 50) {
      const answers = await Promise.all(
        inputs.slice(i, i + 50).map(async (input) => {
          const body = JSON.stringify(input);
          const res = await fetch(`${api.baseUrl}${hook.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...signedHeaders(hook.secret, body) },
            body,
          });
          expect(res.status).toBe(202);
          return ((await res.json()) as { data: { runId: string } }).data.runId;
        }),
      );
      ids.push(...answers);
    }
    return ids;
  }

  async function runsOf(ids: string[]): Promise<Run[]> {
    const runs: Run[] = [];
    for (let i = 0; i < ids.length; i += 50) {
      const page = await Promise.all(
        ids.slice(i, i + 50).map(async (id) => {
          const res = await call(`/v1/workflow-runs/${id}`);
          // A loaded machine may answer 503 (database busy past its deadline): ask again on the next poll.
          if (res.status !== 200) throw new Error(`GET run ${id} answered ${res.status}`);
          return res.body.data as Run;
        }),
      );
      runs.push(...page);
    }
    return runs;
  }

  async function allCompleted(ids: string[], timeoutMs: number, what: string): Promise<Run[]> {
    let runs: Run[] = [];
    await waitUntil(
      async () => {
        try {
          runs = await runsOf(ids);
        } catch {
          return false;
        }
        return runs.every((r) => r.status === 'completed');
      },
      timeoutMs,
      what,
    );
    return runs;
  }

  function expectNoOverlapPerKey(runs: Run[], keys: string[]): void {
    for (const key of keys) {
      const ofKey = runs.filter((r) => r.input.key === key);
      expect(ofKey.every((r) => r.concurrencyKey === key)).toBe(true);
      expect(overlapping(ofKey)).toEqual([]);
    }
  }

  it('documents the flow-control fields of a run in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${api.baseUrl}/docs-json`)).json()) as {
      components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> };
    };
    const run = doc.components.schemas.RunResponse.properties;
    for (const field of ['concurrencyKey', 'throttleKey', 'debounceKey', 'supersededBy', 'queuedMs']) {
      expect(run[field]?.description).toEqual(expect.any(String));
    }
  });

  it('a worker SIGKILLed while its run holds the slot does not leave the key stuck', async () => {
    // The first request is kept open (its worker dies holding it); the run's next attempt is answered.
    let seen = 0;
    slow.on('/slow', async (_req, res) => {
      if (seen++ === 0) return;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const hook = await webhookWorkflow({
      steps: [{ id: 'call', type: 'http', request: { method: 'POST', url: `${slow.url}/slow` } }],
      concurrency: { limit: 1, key: 'input.key' },
    });
    const first = await startHookrun(['worker'], env);
    workers.push(first);
    const [holder] = await deliver(hook, [{ key: 'k', n: 0 }]);
    await waitUntil(async () => slow.to('/slow').length === 1, 20_000, 'the first run to hold the slot');
    const waiting = await deliver(
      hook,
      [1, 2, 3].map((n) => ({ key: 'k', n })),
    );
    workers.push(await startHookrun(['worker'], env));
    await first.stop('SIGKILL');

    const runs = await allCompleted([holder, ...waiting], 60_000, 'the key to drain after the SIGKILL');
    expectNoOverlapPerKey(runs, ['k']);
    // The held run was taken over by the other worker (after its lock expired), and only then did the others start.
    expect(runs.slice(1).every((r) => ms(r.startedAt) >= ms(runs[0].completedAt))).toBe(true);
  }, 120_000);

  it("a worker's line about a run carries the run's and the workflow's ids", async () => {
    if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) {
      workers.push(await startHookrun(['worker'], env));
    }
    const hook = await webhookWorkflow({
      steps: [{ id: 's', type: 'transform', expression: '1' }],
      concurrency: { limit: 1, key: 'input.customer' },
    });
    const [runId] = await deliver(hook, [{ other: 1 }]);
    let run: (Run & { workflowId: string }) | undefined;
    await waitUntil(
      async () => {
        run = (await runsOf([runId]))[0] as typeof run;
        return run?.status === 'failed';
      },
      20_000,
      'the run to fail',
    );
    const workflowId = run?.workflowId;
    const about = (): Record<string, unknown>[] =>
      workers
        .flatMap((w) => w.output().split('\n'))
        .filter((line) => line.startsWith('{') && line.includes(runId))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await waitUntil(async () => about().length > 0, 10_000, 'the worker to log the failed key');
    for (const line of about()) expect(line).toMatchObject({ level: 40, runId, workflowId });
  });

  it('1,000 deliveries over 10 keys with limit 1: never two runs of one key at once', async () => {
    workers.push(await startHookrun(['worker'], env));
    expect(workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null)).toHaveLength(2);
    const keys = Array.from({ length: 10 }, (_, i) => `key${i}`);
    sink.serve(keys);
    const hook = await webhookWorkflow({
      steps: [
        {
          id: 'call',
          type: 'http',
          request: { method: 'POST', url: `${sink.url}/key/{{ input.key }}`, body: 'input' },
        },
      ],
      concurrency: { limit: 1, key: 'input.key' },
    });
    const ids = await deliver(
      hook,
      Array.from({ length: 1000 }, (_, n) => ({ key: keys[n % 10], n })),
    );
    const runs = await allCompleted(ids, 280_000, '1,000 runs to complete');
    expectNoOverlapPerKey(runs, keys);
    for (const key of keys) expect(sink.maxOpen.get(key)).toBe(1);
    expect(sink.requests.filter((r) => r.path.startsWith('/key/')).length).toBeGreaterThanOrEqual(1000);
  }, 300_000);

  it('throttle across both workers: at most `limit` starts of a key in any window', async () => {
    const periodMs = 500;
    const hook = await webhookWorkflow({
      steps: [{ id: 's', type: 'transform', expression: 'input.n' }],
      throttle: { limit: 5, periodMs, key: 'input.key' },
    });
    const ids = await deliver(
      hook,
      Array.from({ length: 60 }, (_, n) => ({ key: n % 2 === 0 ? 't0' : 't1', n })),
    );
    const runs = await allCompleted(ids, 60_000, 'throttled runs to complete');
    for (const key of ['t0', 't1']) {
      const starts = runs
        .filter((r) => r.input.key === key)
        .map((r) => ms(r.startedAt))
        .sort((a, b) => a - b);
      expect(starts).toHaveLength(30);
      // Any 6 consecutive starts span at least a period.
      for (let i = 5; i < starts.length; i++) expect(starts[i] - starts[i - 5]).toBeGreaterThanOrEqual(periodMs);
    }
  }, 90_000);

  it('debounce across both workers: a burst of one key makes one run, the others point at a newer one', async () => {
    const hook = await webhookWorkflow({
      steps: [{ id: 's', type: 'transform', expression: 'input.n' }],
      output: 'steps.s.output',
      debounce: { periodMs: 3000, key: 'input.key' },
    });
    const ids = await deliver(
      hook,
      Array.from({ length: 40 }, (_, n) => ({ key: `d${n % 4}`, n })),
    );
    let runs: (Run & { output: unknown; supersededBy: string | null; error: { code: string } | null })[] = [];
    await waitUntil(
      async () => {
        runs = (await runsOf(ids)) as typeof runs;
        return runs.every((r) => r.status === 'completed' || r.status === 'cancelled');
      },
      60_000,
      'the bursts to settle',
    );
    for (let k = 0; k < 4; k++) {
      const ofKey = runs.filter((r) => r.input.key === `d${k}`);
      const completed = ofKey.filter((r) => r.status === 'completed');
      expect(completed).toHaveLength(1);
      // The one that ran is the newest of its key, with its own input.
      expect(completed[0].id).toBe([...ofKey].sort((a, b) => (a.id < b.id ? -1 : 1))[ofKey.length - 1].id);
      expect(completed[0].output).toBe(completed[0].input.n);
      for (const run of ofKey.filter((r) => r.status === 'cancelled')) {
        expect(run.error?.code).toBe('debounced');
        const newer = ofKey.find((r) => r.id === run.supersededBy);
        expect(newer && newer.id > run.id).toBe(true);
      }
    }
  }, 90_000);

  it('Redis emptied mid-way: no queued run is lost and no extra one is admitted', async () => {
    const keys = ['f0', 'f1', 'f2', 'f3'];
    sink.serve(keys);
    const hook = await webhookWorkflow({
      steps: [
        {
          id: 'call',
          type: 'http',
          request: { method: 'POST', url: `${sink.url}/key/{{ input.key }}`, body: 'input' },
        },
      ],
      concurrency: { limit: 1, key: 'input.key' },
    });
    const ids = await deliver(
      hook,
      Array.from({ length: 200 }, (_, n) => ({ key: keys[n % 4], n })),
    );
    await waitUntil(
      async () => (await runsOf(ids)).filter((r) => r.status === 'completed').length >= 20,
      60_000,
      'some runs to complete',
    );
    await redis.client.flushall();
    const runs = await allCompleted(ids, 180_000, 'every run to complete after the flush');
    expectNoOverlapPerKey(runs, keys);
    for (const key of keys) expect(sink.maxOpen.get(key)).toBe(1);
  }, 200_000);
});
