import { getQueueToken } from '@nestjs/bullmq';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Queue } from 'bullmq';

import { RUNS_QUEUE } from '../../src/modules/runs/runs.queue.js';
import { RunClaimsRepository } from '../../src/modules/runs/run-claims.repository.js';
import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { resetDatabase, startTestApp, testQueuePrefix, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

const http = (id: string, url: string, extra: object = {}) => ({
  id,
  type: 'http',
  request: { method: 'POST', url, body: '{ "run": run.id }' },
  ...extra,
});

async function startRun(t: TestApp, definition: object, input: unknown = {}): Promise<string> {
  const { id } = await createWorkflow(t, definition);
  const res = await t.http().post(`/v1/workflows/${id}/runs`).set(t.auth).send({ input });
  expect(res.status).toBe(202);
  return res.body.data.id as string;
}

async function readRun(t: TestApp, runId: string): Promise<RunBody> {
  return (await t.http().get(`/v1/workflow-runs/${runId}`).set(t.auth)).body.data as RunBody;
}

describe('durable engine: crashes and restarts', () => {
  const sink = new HttpSink();
  let api: TestApp;
  const workers: HookrunProcess[] = [];
  const queuePrefix = testQueuePrefix();
  const workerEnv = {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    BOOTSTRAP_API_KEY: TEST_API_KEY,
    QUEUE_PREFIX: queuePrefix,
    HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
    // No WORKER_LOCK_MS: a crashed worker's runs come back with the default lock.
    LOG_LEVEL: 'warn',
  };
  const startWorker = async () => {
    const worker = await startHookrun(['worker'], workerEnv);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    await sink.start();
    api = await startTestApp({ worker: false, queuePrefix, env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1' } });
    await resetDatabase(api.db);
  });

  afterAll(async () => {
    for (const worker of workers) await worker.stop('SIGKILL');
    await api.close();
    await sink.stop();
  });

  it('completes a run whose worker was SIGKILLed during step 2; step 1 ran once, step 2 reached the sink at most twice with one key', async () => {
    sink.hold('/two');
    const first = await startWorker();
    const runId = await startRun(api, {
      steps: [
        http('one', `${sink.url}/one`),
        http('two', `${sink.url}/two`),
        { id: 'three', type: 'transform', expression: '"done"' },
      ],
      output: 'steps.three.output',
    });
    await waitUntil(async () => sink.to('/two').length === 1, 15_000, 'step 2 to reach the sink');

    await first.stop('SIGKILL');
    sink.on('/two', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"second":true}');
    });
    await startWorker();

    const run = await waitForRun(api, runId, { timeoutMs: 30_000 });
    expect(run.status).toBe('completed');
    expect(run.output).toBe('done');
    expect(sink.countByKey(`${runId}:one`)).toBe(1);
    const two = sink.to('/two');
    expect(two.length).toBeGreaterThanOrEqual(1);
    expect(two.length).toBeLessThanOrEqual(2);
    expect(two.every((r) => r.idempotencyKey === `${runId}:two`)).toBe(true);
    expect(run.steps.find((s) => s.id === 'one')?.attempts).toBe(1);
  });

  it('finishes a delay step that outlives the worker that started it', async () => {
    const worker = workers[workers.length - 1];
    const runId = await startRun(api, {
      steps: [
        { id: 'wait', type: 'delay', durationMs: 1500 },
        { id: 'after', type: 'transform', expression: '"woke up"' },
      ],
      output: 'steps.after.output',
    });
    const waiting = await waitForRun(api, runId, { statuses: ['running'] });
    await waitUntil(
      async () => (await readRun(api, runId)).steps.find((s) => s.id === 'wait')?.status === 'waiting',
      10_000,
      'the delay step to wait',
    );
    expect(waiting.status).toBe('running');
    await worker.stop('SIGKILL');
    await startWorker();

    const run = await waitForRun(api, runId, { timeoutMs: 30_000 });
    expect(run).toEqual(expect.objectContaining({ status: 'completed', output: 'woke up' }));
    const wait = run.steps.find((s) => s.id === 'wait') as unknown as { status: string; output: { waitedMs: number } };
    expect(wait.status).toBe('completed');
    expect(wait.output.waitedMs).toBeGreaterThanOrEqual(1500);
  });
});

describe('durable engine: steps, retries, timeouts, cancel', () => {
  const sink = new HttpSink();
  let t: TestApp;

  beforeAll(async () => {
    await sink.start();
    t = await startTestApp({ env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1', WORKER_CONCURRENCY: '1' } });
  });

  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  it('sends http steps with their templated url, headers and JSON body, and keeps the response as output', async () => {
    sink.on('/orders/acme', (req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-order': '7' });
      res.end(JSON.stringify({ got: JSON.parse(req.body) }));
    });
    const runId = await startRun(
      t,
      {
        steps: [
          {
            id: 'post',
            type: 'http',
            request: {
              method: 'POST',
              url: `${sink.url}/orders/{{ input.company }}`,
              headers: { 'x-source': 'hookrun-{{ input.n }}' },
              body: '{ "total": input.n * 2 }',
            },
          },
        ],
        output: 'steps.post.output',
      },
      { company: 'acme', n: 21 },
    );
    const run = await waitForRun(t, runId);
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({
      status: 201,
      headers: expect.objectContaining({ 'x-order': '7', 'content-type': 'application/json' }),
      body: { got: { total: 42 } },
    });
    expect(sink.to('/orders/acme')[0].idempotencyKey).toBe(`${runId}:post`);
  });

  it('does not hold a worker slot while a delay waits', async () => {
    // One worker slot: the second run completes while the first still waits.
    const delayed = await startRun(t, {
      steps: [
        { id: 'wait', type: 'delay', durationMs: 3000 },
        { id: 'after', type: 'transform', expression: '1' },
      ],
    });
    await waitUntil(
      async () => (await readRun(t, delayed)).steps.find((s) => s.id === 'wait')?.status === 'waiting',
      10_000,
      'the delay to wait',
    );
    const quick = await startRun(t, { steps: [{ id: 'now', type: 'transform', expression: '"quick"' }] });
    expect((await waitForRun(t, quick)).output).toBe('quick');
    expect((await readRun(t, delayed)).status).toBe('running');
    expect((await waitForRun(t, delayed, { timeoutMs: 15_000 })).status).toBe('completed');
  });

  it('retries 5xx answers with backoff and the same Idempotency-Key, and fails 4xx at once', async () => {
    sink.failFirst('/flaky', 2, 503);
    const flaky = await startRun(t, {
      steps: [http('call', `${sink.url}/flaky`, { retry: { maxAttempts: 3, backoffMs: 50 } })],
    });
    const ok = await waitForRun(t, flaky);
    expect(ok.status).toBe('completed');
    expect(ok.steps[0].attempts).toBe(3);
    expect(sink.to('/flaky').map((r) => r.idempotencyKey)).toEqual(Array(3).fill(`${flaky}:call`));

    sink.on('/bad', (_req, res) => {
      res.writeHead(400);
      res.end();
    });
    const bad = await startRun(t, {
      steps: [http('call', `${sink.url}/bad`, { retry: { maxAttempts: 3, backoffMs: 50 } })],
    });
    const failed = await waitForRun(t, bad);
    expect(failed.status).toBe('failed');
    expect(failed.error).toEqual(expect.objectContaining({ code: 'http_status', stepId: 'call' }));
    expect(failed.steps[0].attempts).toBe(1);
    expect(sink.to('/bad')).toHaveLength(1);
  });

  it('refuses http steps to private addresses that HTTP_STEP_ALLOWED_HOSTS does not list', async () => {
    const runId = await startRun(t, { steps: [http('meta', 'http://169.254.169.254/latest/meta-data/')] });
    const run = await waitForRun(t, runId);
    expect(run.error).toEqual(expect.objectContaining({ code: 'ssrf_blocked', stepId: 'meta' }));
    const loopback = await waitForRun(t, await startRun(t, { steps: [http('local', 'http://[::ffff:127.0.0.2]:1/')] }));
    expect(loopback.error?.code).toBe('ssrf_blocked');
  });

  it('fails a step that passes its timeoutMs, and a run that passes its own', async () => {
    sink.hold('/slow');
    const stepTimeout = await waitForRun(
      t,
      await startRun(t, { steps: [http('slow', `${sink.url}/slow`, { timeoutMs: 300 })] }),
    );
    expect(stepTimeout.error).toEqual(expect.objectContaining({ code: 'http_timeout', stepId: 'slow' }));
    sink.releaseAll();

    const runTimeout = await waitForRun(
      t,
      await startRun(t, {
        timeoutMs: 1000,
        steps: [
          { id: 'first', type: 'delay', durationMs: 400 },
          { id: 'second', type: 'delay', durationMs: 700 },
        ],
      }),
      { timeoutMs: 10_000 },
    );
    expect(runTimeout.error).toEqual(expect.objectContaining({ code: 'run_timeout', stepId: 'second' }));
  });

  it('cancels a run during a delay: the waiting job leaves the queue and the run stays cancelled', async () => {
    const runId = await startRun(t, { steps: [{ id: 'wait', type: 'delay', durationMs: 60_000 }] });
    await waitUntil(async () => (await readRun(t, runId)).steps[0]?.status === 'waiting', 10_000, 'the delay to wait');
    const res = await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth);
    expect(res.status).toBe(200);
    expect(res.body.data.status).toBe('cancelled');
    expect(res.body.data.steps[0].status).toBe('skipped');
    const queue = t.app.get<Queue>(getQueueToken(RUNS_QUEUE));
    expect(await queue.getJobState(runId)).toBe('unknown');
  });

  it('cancels a run during an http step: the request in flight is aborted', async () => {
    sink.hold('/hang');
    const runId = await startRun(t, { steps: [http('hang', `${sink.url}/hang`, { timeoutMs: 60_000 })] });
    await waitUntil(async () => sink.to('/hang').length === 1, 10_000, 'the request to reach the sink');
    expect((await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth)).status).toBe(200);
    await waitUntil(async () => sink.to('/hang')[0].aborted, 10_000, 'the request to be aborted');
    expect((await readRun(t, runId)).status).toBe('cancelled');
  });

  it('stops a running run within 2 s of the cancel, told by the change feed rather than by polling its status', async () => {
    sink.hold('/cancelled-in-flight');
    const runId = await startRun(t, {
      steps: [
        http('slow', `${sink.url}/cancelled-in-flight`, { timeoutMs: 60_000 }),
        http('after', `${sink.url}/after-cancel`),
      ],
    });
    await waitUntil(async () => sink.to('/cancelled-in-flight').length === 1, 10_000, 'the request to reach the sink');
    const statusReads = jest.spyOn(t.app.get(RunClaimsRepository), 'statusOf');
    try {
      const cancelledAt = Date.now();
      expect((await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth)).status).toBe(200);
      await waitUntil(
        async () => sink.to('/cancelled-in-flight')[0].aborted,
        2000,
        'the request in flight to be aborted',
      );
      expect(Date.now() - cancelledAt).toBeLessThan(2000);
      expect(statusReads).not.toHaveBeenCalled();
    } finally {
      statusReads.mockRestore();
    }
    const run = await waitForRun(t, runId);
    expect(run.status).toBe('cancelled');
    expect(run.steps.map((step) => step.status)).toEqual(['skipped', 'skipped']);
    expect(sink.to('/after-cancel')).toHaveLength(0);
  });

  it('retries a failed run from its failed step without repeating the steps that completed', async () => {
    let healthy = false;
    sink.on('/toggle', (_req, res) => {
      res.writeHead(healthy ? 200 : 422, { 'content-type': 'application/json' });
      res.end('{}');
    });
    const runId = await startRun(t, {
      steps: [http('first', `${sink.url}/first`), http('toggle', `${sink.url}/toggle`)],
      output: 'steps.toggle.output.status',
    });
    expect((await waitForRun(t, runId)).status).toBe('failed');
    healthy = true;
    expect((await t.http().post(`/v1/workflow-runs/${runId}/retry`).set(t.auth)).status).toBe(202);
    const run = await waitForRun(t, runId, { statuses: ['completed', 'failed'] });
    expect(run).toEqual(expect.objectContaining({ status: 'completed', output: 200 }));
    expect(sink.countByKey(`${runId}:first`)).toBe(1);
    expect(sink.countByKey(`${runId}:toggle`)).toBe(2);
  });

  it('stops a stale worker before its next side effect when another claim took the run', async () => {
    sink.hold('/stale-one');
    const runId = await startRun(t, {
      steps: [http('one', `${sink.url}/stale-one`), http('two', `${sink.url}/stale-two`)],
    });
    await waitUntil(async () => sink.to('/stale-one').length === 1, 10_000, 'step one to reach the sink');
    // Another worker claims the run (as after a lock expiry) while this one waits for step one's answer.
    const newer = await t.app.get(RunClaimsRepository).claim(runId, new Date());
    expect(newer?.attempt).toBe(2);
    sink.releaseAll();
    // Its job ends once the stale execution returns, whatever it did before that.
    const queue = t.app.get<Queue>(getQueueToken(RUNS_QUEUE));
    await waitUntil(async () => (await queue.getJobState(runId)) !== 'active', 10_000, 'the stale execution to end');
    // The stale worker wrote nothing and never sent step two.
    const [run] = await t.db.query('SELECT status, attempt FROM workflow_runs WHERE id = $1', [runId]);
    expect(run).toEqual({ status: 'running', attempt: 2 });
    expect(sink.to('/stale-two')).toHaveLength(0);
  });
});
