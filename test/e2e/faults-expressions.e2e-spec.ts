import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';

import { RUNS_QUEUE } from '../../src/modules/runs/runs.queue.js';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

/** Catastrophic backtracking: one native call that never returns (2^40 steps), out of reach of any hook. */
const REDOS = `$match("${'a'.repeat(40)}!", /(a+)+$/)`;
/** 2^40 calls: never ends, whatever the machine; stopped by the limit checked between evaluation steps. */
const RUNAWAY = '( $f := function($n){ $n > 0 ? $f($n-1) + $f($n-1) : 0 }; $f(40) )';
const HTTP_RUNS = 20;

/**
 * Issue 12, item 5: a CPU-bound expression used to hold the worker's event loop, so that the locks of its other
 * runs expired and they were claimed, and their http steps sent, again. Here a real worker process (lock 5 s)
 * runs 20 http runs held open by the sink beside two hostile expressions: a regex no check can interrupt, and a
 * recursion whose step allows it 8 s, longer than the lock. The locks of the 20 jobs are watched in Redis all along.
 */
describe('faults: CPU-bound expressions beside running http steps', () => {
  const sink = new HttpSink();
  const queuePrefix = `hookrun-faults-expr-${randomBytes(4).toString('hex')}`;
  let api: TestApp;
  let worker: HookrunProcess | undefined;
  let redis: Redis;

  beforeAll(async () => {
    await sink.start();
    redis = new Redis(TEST_REDIS_URL);
    api = await startTestApp({ worker: false, queuePrefix });
    await resetDatabase(api.db);
    worker = await startHookrun(['worker'], {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: queuePrefix,
      HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
      WORKER_LOCK_MS: '5000',
      EXPRESSION_TIMEOUT_MS: '500',
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    redis?.disconnect();
    await worker?.stop('SIGKILL');
    await api?.close();
    await sink.stop();
  });

  async function startRuns(definition: object, count = 1): Promise<string[]> {
    const { id } = await createWorkflow(api, definition);
    const ids: string[] = [];
    for (let n = 0; n < count; n++) {
      const res = await api.http().post(`/v1/workflows/${id}/runs`).set(api.auth).send({ input: { n } });
      expect(res.status).toBe(202);
      ids.push(res.body.data.id as string);
    }
    return ids;
  }

  const readRun = async (runId: string): Promise<RunBody> =>
    (await api.http().get(`/v1/workflow-runs/${runId}`).set(api.auth)).body.data as RunBody;
  /** BullMQ's lock of a run's job (job id = run id): it expires unless the worker renews it. */
  const lockKey = (runId: string) => `${queuePrefix}:${RUNS_QUEUE}:${runId}:lock`;

  it('stops the hostile expressions with expression_timeout; no lock is lost, no run claimed twice, no step repeated', async () => {
    sink.hold('/slow');
    const httpRuns = await startRuns(
      { steps: [{ id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/slow`, body: 'input' } }] },
      HTTP_RUNS,
    );
    await waitUntil(async () => sink.to('/slow').length === HTTP_RUNS, 30_000, 'every http step to reach the sink');

    const [regex] = await startRuns({ steps: [{ id: 'regex', type: 'transform', expression: REDOS }] });
    const [loop] = await startRuns({
      steps: [{ id: 'loop', type: 'transform', expression: RUNAWAY, timeoutMs: 8000 }],
    });
    // Until both hostile runs end, every held job keeps its lock: a lock that lapses is a run claimed again.
    const lapsed = new Set<string>();
    let lockChecks = 0;
    const hostileEnded = waitUntil(
      async () => {
        const held = await Promise.all(httpRuns.map((runId) => redis.exists(lockKey(runId))));
        held.forEach((exists, i) => exists === 0 && lapsed.add(httpRuns[i]));
        lockChecks++;
        const ends = await Promise.all([regex, loop].map(readRun));
        return ends.every((run) => run.status === 'failed' || run.status === 'completed');
      },
      60_000,
      'the hostile runs to end',
    );
    await waitUntil(async () => (await readRun(loop)).status === 'running', 30_000, 'the recursion to start');
    // While the recursion runs, another run's expressions are evaluated to the end.
    const [cheap] = await startRuns({ steps: [{ id: 'answer', type: 'transform', expression: 'input.n + 42' }] });
    const cheapRun = await waitForRun(api, cheap, { timeoutMs: 30_000 });
    const loopWhenCheapEnded = await readRun(loop);
    await hostileEnded;
    const [regexRun, loopRun] = await Promise.all([regex, loop].map(readRun));
    // The held requests have outlived a lock period; now they are answered, and so would any repeat be.
    sink.on('/slow', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    sink.releaseAll();
    await waitUntil(
      async () => (await Promise.all(httpRuns.map(readRun))).every((run) => run.status === 'completed'),
      30_000,
      'the http runs to complete',
    );

    expect(cheapRun).toMatchObject({ status: 'completed', output: 42 });
    expect(loopWhenCheapEnded.status).toBe('running');
    expect(regexRun).toMatchObject({
      status: 'failed',
      error: { code: 'expression_timeout', message: 'the expression did not finish within 500 ms', stepId: 'regex' },
    });
    expect(loopRun).toMatchObject({
      status: 'failed',
      error: { code: 'expression_timeout', message: 'the expression did not finish within 8000 ms', stepId: 'loop' },
    });
    expect(lockChecks).toBeGreaterThan(1);
    expect([...lapsed]).toEqual([]);
    expect(sink.to('/slow')).toHaveLength(HTTP_RUNS);
    for (const runId of httpRuns) expect(sink.countByKey(`${runId}:call`)).toBe(1);
    const claims: { id: string; attempt: number }[] = await api.db.query(
      'SELECT id, attempt FROM workflow_runs WHERE id = ANY($1)',
      [[...httpRuns, regex, loop, cheap]],
    );
    expect(claims).toHaveLength(HTTP_RUNS + 3);
    expect(claims.filter((run) => run.attempt !== 1)).toEqual([]);
  });
});
