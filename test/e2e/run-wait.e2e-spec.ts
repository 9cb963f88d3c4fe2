import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Test } from 'supertest';

import { RunClaimsRepository } from '../../src/modules/runs/run-claims.repository.js';
import { RunWaitersRegistry } from '../../src/modules/runs/run-waiters.registry.js';
import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { expectError } from '../support/expect-error.js';
import { createWebhookWorkflow, createWorkflow, type CreatedTrigger } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, testQueuePrefix, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil, type RunBody } from '../support/wait-for.js';

const QUICK = {
  steps: [{ id: 'double', type: 'transform', expression: 'input.n * 2' }],
  output: '{ "doubled": steps.double.output }',
};

// Ten minutes: longer than any wait, so that only a cancellation or the wait's own end answers.
const LONG_DELAY = {
  steps: [
    { id: 'pause', type: 'delay', durationMs: 600_000 },
    { id: 'after', type: 'transform', expression: '"woke up"' },
  ],
  output: 'steps.after.output',
};

function deliver(t: TestApp, trigger: CreatedTrigger, payload: unknown, query = '', id?: string): Test {
  const body = JSON.stringify(payload);
  return t
    .http()
    .post(`${trigger.path}${query}`)
    .set('content-type', 'application/json')
    .set(signedHeaders(trigger.secret, body, { id }))
    .send(body);
}

async function runsOf(t: TestApp, workflowId: string): Promise<RunBody[]> {
  const res = await t.http().get(`/v1/workflows/${workflowId}/runs`).set(t.auth);
  expect(res.status).toBe(200);
  return res.body.data as RunBody[];
}

async function getRun(t: TestApp, runId: string): Promise<RunBody> {
  const res = await t.http().get(`/v1/workflow-runs/${runId}`).set(t.auth);
  expect(res.status).toBe(200);
  return res.body.data as RunBody;
}

/** The one run of a workflow, once it has been created (a waiting request has not answered yet). */
async function onlyRunOf(t: TestApp, workflowId: string, statuses = ['queued', 'running']): Promise<RunBody> {
  let run: RunBody | undefined;
  await waitUntil(
    async () => {
      run = (await runsOf(t, workflowId))[0];
      return run !== undefined && statuses.includes(run.status);
    },
    10_000,
    `a run of workflow ${workflowId}`,
  );
  return run!;
}

describe('waiting for the result (?wait=)', () => {
  const sink = new HttpSink();
  let t: TestApp;

  beforeAll(async () => {
    await sink.start();
    sink.on('/fail', (_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"broken":true}');
    });
    t = await startTestApp({ env: { HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1' } });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
    await sink.stop();
  });

  describe('on a webhook URL', () => {
    it('answers 200 with the run as GET returns it when the run completes in time', async () => {
      const { trigger } = await createWebhookWorkflow(t, QUICK);
      const res = await deliver(t, trigger, { n: 21 }, '?wait=5');
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(
        expect.objectContaining({ status: 'completed', output: { doubled: 42 }, error: null }),
      );
      expect(res.headers.location).toBe(`/v1/workflow-runs/${res.body.data.id}`);
      expect(res.body.data).toEqual(await getRun(t, res.body.data.id as string));
    });

    it('answers the usual 202 when the run does not end in time', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, LONG_DELAY);
      const res = await deliver(t, trigger, {}, '?wait=1');
      expect(res.status).toBe(202);
      expect(res.body.data).toEqual({ runId: expect.any(String), workflowId: id, status: 'queued' });
      expect(res.headers.location).toBe(`/v1/workflow-runs/${res.body.data.runId}`);
      expect(t.app.get(RunWaitersRegistry).size).toBe(0);
    });

    it('answers with the output as the whole body with reply=output', async () => {
      const { trigger } = await createWebhookWorkflow(t, QUICK);
      const res = await deliver(t, trigger, { n: 4 }, '?wait=5&reply=output');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ doubled: 8 });
    });

    it('sends any JSON value as the output, a string or null included', async () => {
      const text = await createWebhookWorkflow(t, {
        steps: [{ id: 'hi', type: 'transform', expression: '"hello " & input.name' }],
        output: 'steps.hi.output',
      });
      const greeted = await deliver(t, text.trigger, { name: 'Grace' }, '?wait=5&reply=output');
      expect(greeted.status).toBe(200);
      expect(greeted.headers['content-type']).toMatch(/^application\/json/);
      expect(greeted.text).toBe('"hello Grace"');

      const nothing = await createWebhookWorkflow(t, {
        steps: [{ id: 'noop', type: 'transform', expression: 'null' }],
        output: 'null',
      });
      const empty = await deliver(t, nothing.trigger, {}, '?wait=5&reply=output');
      expect(empty.status).toBe(200);
      expect(empty.text).toBe('null');
    });

    it('answers 502 run_failed with the run error when an http step fails, and 200 with the failed run without reply', async () => {
      const { trigger } = await createWebhookWorkflow(t, {
        steps: [{ id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/fail`, body: 'input' } }],
      });
      const res = await deliver(t, trigger, { n: 1 }, '?wait=10&reply=output');
      expectError(res, 502, 'run_failed');
      const runId = res.headers.location.split('/').pop() as string;
      const run = await getRun(t, runId);
      expect(run.status).toBe('failed');
      expect(res.body.error.details).toEqual({ runId, status: 'failed', error: run.error });
      expect(run.error).toEqual(expect.objectContaining({ code: 'http_status', stepId: 'call' }));
      expect(res.body.error.message).toBe(`Run ${runId} failed: ${run.error?.message}`);

      const plain = await deliver(t, trigger, { n: 2 }, '?wait=10');
      expect(plain.status).toBe(200);
      expect(plain.body.data).toEqual(expect.objectContaining({ status: 'failed', error: run.error }));
    });

    it('waits on the first run when a delivery is replayed, whether it has ended or not', async () => {
      sink.hold('/held');
      const { trigger } = await createWebhookWorkflow(t, {
        steps: [{ id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/held`, body: 'input' } }],
        output: 'steps.call.output.body',
      });
      const first = await deliver(t, trigger, { n: 1 }, '?wait=1', 'msg_replayed');
      expect(first.status).toBe(202);
      const runId = first.body.data.runId as string;

      const replay = deliver(t, trigger, { n: 1 }, '?wait=20&reply=output', 'msg_replayed').then((res) => res);
      await waitUntil(async () => t.app.get(RunWaitersRegistry).size === 1, 10_000, 'the replay to wait');
      sink.releaseAll();
      const answered = await replay;
      expect(answered.status).toBe(200);
      expect(answered.headers['idempotent-replayed']).toBe('true');
      expect(answered.headers.location).toBe(`/v1/workflow-runs/${runId}`);
      expect(answered.body).toEqual({ held: true });

      // Long ended: answered at once.
      const again = await deliver(t, trigger, { n: 1 }, '?wait=20', 'msg_replayed');
      expect(again.status).toBe(200);
      expect(again.body.data).toEqual(expect.objectContaining({ id: runId, status: 'completed' }));
    });

    it('wakes a waiting request when the run is cancelled through the API', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, LONG_DELAY);
      const waiting = deliver(t, trigger, {}, '?wait=30&reply=output').then((res) => res);
      const run = await onlyRunOf(t, id, ['running']);
      const cancel = await t.http().post(`/v1/workflow-runs/${run.id}/cancel`).set(t.auth);
      expect(cancel.status).toBe(200);
      const res = await waiting;
      expectError(res, 502, 'run_failed');
      expect(res.body.error.details).toEqual({ runId: run.id, status: 'cancelled', error: null });
      expect(res.body.error.message).toBe(`Run ${run.id} was cancelled`);
    });

    it('wakes a waiting request when a worker gives the run up (failUnfinished)', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, LONG_DELAY);
      const waiting = deliver(t, trigger, {}, '?wait=10&reply=output').then((res) => res);
      const run = await onlyRunOf(t, id, ['running']);
      const error = { code: 'internal_error', message: 'The run could not be executed (3 attempts)', stepId: null };
      expect(await t.app.get(RunClaimsRepository).failUnfinished(run.id, error, new Date())).not.toBeNull();
      const res = await waiting;
      expectError(res, 502, 'run_failed');
      expect(res.body.error.details).toEqual({ runId: run.id, status: 'failed', error });
    });

    it('reads the waited runs again when the change feed reconnects, so that an end sent meanwhile is not missed', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, LONG_DELAY);
      const waiting = deliver(t, trigger, {}, '?wait=10').then((res) => res);
      const run = await onlyRunOf(t, id, ['running']);
      const listeners = `FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'hookrun-listen'`;
      await t.db.query(`SELECT pg_terminate_backend(pid) ${listeners}`);
      await waitUntil(
        async () => (await t.db.query(`SELECT count(*)::int AS n ${listeners}`))[0].n === 0,
        5_000,
        'the listening connection to be gone',
      );
      // Sent while nobody listens: only the reconnection's read finds it.
      expect((await t.http().post(`/v1/workflow-runs/${run.id}/cancel`).set(t.auth)).status).toBe(200);
      const res = await waiting;
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(expect.objectContaining({ id: run.id, status: 'cancelled' }));
    });

    it('refuses a wait or reply it cannot take with 400 validation_failed, starting no run', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, QUICK);
      for (const [query, field] of [
        ['?wait=0', 'wait'],
        ['?wait=31', 'wait'],
        ['?wait=abc', 'wait'],
        ['?wait=5&wait=6', 'wait'],
        ['?wait=5&reply=xyz', 'reply'],
        ['?reply=output', 'reply'],
      ]) {
        const res = await deliver(t, trigger, { n: 1 }, query);
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details).toEqual([{ field, message: expect.any(String) }]);
      }
      expect(await runsOf(t, id)).toEqual([]);
    });

    it('releases the waiter of a client that goes away', async () => {
      const registry = t.app.get(RunWaitersRegistry);
      const { trigger } = await createWebhookWorkflow(t, LONG_DELAY);
      const gone = deliver(t, trigger, {}, '?wait=30').timeout(1000);
      await expect(gone).rejects.toThrow(/timeout/i);
      await waitUntil(async () => registry.size === 0, 5_000, 'the waiter to be released');
    });

    it('logs a delivery answered after a wait like any accepted one, with its run', async () => {
      const { id, trigger } = await createWebhookWorkflow(t, {
        steps: [{ id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/fail`, body: 'input' } }],
      });
      const res = await deliver(t, trigger, {}, '?wait=10&reply=output');
      expect(res.status).toBe(502);
      const log = await t.http().get(`/v1/workflows/${id}/trigger/webhook/deliveries`).set(t.auth);
      expect(log.body.data).toEqual([
        expect.objectContaining({ outcome: 'accepted', runId: res.headers.location.split('/').pop() }),
      ]);
    });
  });

  describe('on POST /v1/workflows/{id}/runs', () => {
    const start = (workflowId: string, query: string, input: unknown = { n: 5 }) =>
      t.http().post(`/v1/workflows/${workflowId}/runs${query}`).set(t.auth).send({ input });

    it('answers 200 with the ended run, or 202 with the run when it does not end in time', async () => {
      const quick = await createWorkflow(t, QUICK);
      const done = await start(quick.id, '?wait=5');
      expect(done.status).toBe(200);
      expect(done.body.data).toEqual(expect.objectContaining({ status: 'completed', output: { doubled: 10 } }));
      expect(done.headers.location).toBe(`/v1/workflow-runs/${done.body.data.id}`);

      const slow = await createWorkflow(t, LONG_DELAY);
      const pending = await start(slow.id, '?wait=1');
      expect(pending.status).toBe(202);
      expect(pending.body.data).toEqual(expect.objectContaining({ workflowId: slow.id, trigger: { type: 'api' } }));
      expect(['queued', 'running']).toContain(pending.body.data.status);
    });

    it('waits on the first run of a replayed Idempotency-Key', async () => {
      const quick = await createWorkflow(t, QUICK);
      const first = await start(quick.id, '').set('Idempotency-Key', 'wait-replay');
      expect(first.status).toBe(202);
      const replay = await start(quick.id, '?wait=5').set('Idempotency-Key', 'wait-replay');
      expect(replay.status).toBe(200);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.data).toEqual(expect.objectContaining({ id: first.body.data.id, status: 'completed' }));
    });

    it('wakes a waiting request when the run is cancelled', async () => {
      const slow = await createWorkflow(t, LONG_DELAY);
      const waiting = start(slow.id, '?wait=30').then((res) => res);
      const run = await onlyRunOf(t, slow.id, ['running']);
      expect((await t.http().post(`/v1/workflow-runs/${run.id}/cancel`).set(t.auth)).status).toBe(200);
      const res = await waiting;
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual(expect.objectContaining({ id: run.id, status: 'cancelled' }));
    });

    it('refuses wait=0, wait=31, wait=abc and reply with 400 validation_failed, starting no run', async () => {
      const quick = await createWorkflow(t, QUICK);
      for (const [query, field] of [
        ['?wait=0', 'wait'],
        ['?wait=31', 'wait'],
        ['?wait=abc', 'wait'],
        ['?wait=5&reply=output', 'reply'],
      ]) {
        const res = await start(quick.id, query);
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details).toEqual([{ field, message: expect.any(String) }]);
      }
      expect(await runsOf(t, quick.id)).toEqual([]);
    });

    it('documents wait, reply and the 200 and 502 answers in the OpenAPI document', async () => {
      const doc = (await t.http().get('/docs-json')).body;
      const webhook = doc.paths['/webhooks/workflows/{slug}'].post;
      expect(webhook.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining(['wait', 'reply']),
      );
      expect(Object.keys(webhook.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '502']));
      expect(webhook.responses['502'].content['application/json'].examples.run_failed).toBeDefined();
      const api = doc.paths['/v1/workflows/{id}/runs'].post;
      expect(api.parameters.map((p: { name: string }) => p.name)).toContain('wait');
      expect(Object.keys(api.responses)).toEqual(expect.arrayContaining(['200', '202']));
    });
  });
});

describe('waiting for a run that a worker in another process ends', () => {
  const queuePrefix = testQueuePrefix();
  let api: TestApp;
  let worker: HookrunProcess | undefined;

  beforeAll(async () => {
    api = await startTestApp({ worker: false, queuePrefix });
    await resetDatabase(api.db);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api.close();
  });

  it('wakes the request waiting in the API process when the worker process completes the run', async () => {
    worker = await startHookrun(['worker'], {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'warn',
    });
    const { trigger } = await createWebhookWorkflow(api, QUICK);
    const res = await deliver(api, trigger, { n: 50 }, '?wait=15&reply=output');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ doubled: 100 });
    const run = await waitForRun(api, res.headers.location.split('/').pop() as string);
    expect(run.status).toBe('completed');
  });

  it('answers 202 at once past WAIT_MAX_WAITERS', async () => {
    const full = await startTestApp({ worker: false, env: { WAIT_MAX_WAITERS: '0' } });
    try {
      const { trigger } = await createWebhookWorkflow(full, LONG_DELAY);
      const res = await deliver(full, trigger, {}, '?wait=30');
      expect(res.status).toBe(202);
    } finally {
      await full.close();
    }
  });
});
