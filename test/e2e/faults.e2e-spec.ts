import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import pg from 'pg';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { HttpSink } from '../support/http-sink.js';
import { ProcessClient, type HttpAnswer } from '../support/process-client.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

/**
 * Real hookrun processes while PostgreSQL or Redis stall, vanish or come back, through proxies the test
 * controls (`FaultProxy`), on a redis-server of the test's own. What a sender must see: an answer while
 * the dependency is still away (never a wait for as long as it is), a 202 only for a stored run, and
 * every accepted run finished once it is back.
 */
describe('faults: stalled and lost dependencies', () => {
  const started: { stop(): Promise<unknown> }[] = [];
  let db: pg.Client;

  const envFor = (overrides: Record<string, string>): Record<string, string> => ({
    DATABASE_URL: TEST_DATABASE_URL,
    SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    BOOTSTRAP_API_KEY: TEST_API_KEY,
    QUEUE_PREFIX: `hookrun-faults-${randomBytes(4).toString('hex')}`,
    LOG_LEVEL: 'info',
    RECONCILE_INTERVAL_MS: '500',
    ...overrides,
  });

  async function start(args: string[], env: Record<string, string>): Promise<HookrunProcess> {
    const proc = await startHookrun(args, env);
    started.push({ stop: () => proc.stop('SIGKILL') });
    return proc;
  }

  async function ownRedis(): Promise<OwnRedis> {
    const redis = await startOwnRedis();
    started.push(redis);
    return redis;
  }

  async function proxyTo(url: string): Promise<FaultProxy> {
    const proxy = await FaultProxy.start(url);
    started.push(proxy);
    return proxy;
  }

  /** Resolves with `answers` if they all came while the fault still held, within a generous bound. */
  async function answeredDuringFault<T>(proxy: FaultProxy, answers: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      answers,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('requests were not answered while the dependency was away')), 30_000);
      }),
    ]);
    clearTimeout(timer);
    expect(proxy.status).not.toBe('up');
    return result;
  }

  async function storedRunIds(ids: string[]): Promise<string[]> {
    const rows = await db.query<{ id: string }>('SELECT id FROM workflow_runs WHERE id = ANY($1::uuid[])', [ids]);
    return rows.rows.map((row) => row.id).sort();
  }

  beforeAll(async () => {
    await ensureTestDatabase();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterEach(async () => {
    for (const resource of started.splice(0).reverse()) await resource.stop();
  });

  afterAll(async () => {
    await db.end();
  });

  it('answers every delivery 202 while Redis is paused or gone, and runs them all once it is back', async () => {
    const redis = await ownRedis();
    const proxy = await proxyTo(redis.url);
    const proc = await start([], envFor({ REDIS_URL: proxy.url }));
    const client = new ProcessClient(proc.baseUrl);
    const webhook = await client.createWebhookWorkflow();

    for (const fault of ['paused', 'down'] as const) {
      if (fault === 'paused') proxy.pause();
      else await proxy.down();
      const answers = await answeredDuringFault(
        proxy,
        Promise.all(Array.from({ length: 20 }, (_, n) => client.deliver(webhook, { n }, `msg_redis_${fault}_${n}`))),
      );
      expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 20 }, () => 202));
      const runIds = answers.map((a) => a.body.data.runId as string);
      // Each 202 stands for a stored run, although its job could not be queued.
      expect(await storedRunIds(runIds)).toEqual([...runIds].sort());

      await proxy.up();
      const statuses = await client.waitForTerminal(runIds);
      expect([...statuses.values()]).toEqual(runIds.map(() => 'completed'));
    }
  });

  it('answers 503 with Retry-After while PostgreSQL stalls, never 202 without a stored run, and takes the retries', async () => {
    const redis = await ownRedis();
    const proxy = await proxyTo(TEST_DATABASE_URL);
    const proc = await start([], envFor({ DATABASE_URL: proxy.url, REDIS_URL: redis.url }));
    const client = new ProcessClient(proc.baseUrl);
    const webhook = await client.createWebhookWorkflow();
    const warm = await client.deliver(webhook, { n: 0 }, 'msg_pg_warm');
    expect(warm.status).toBe(202);

    proxy.pause();
    const [answers, ready] = await answeredDuringFault(
      proxy,
      Promise.all([
        Promise.all(Array.from({ length: 20 }, (_, n) => client.deliver(webhook, { n }, `msg_pg_${n}`))),
        fetch(`${proc.baseUrl}/health/ready`),
      ]),
    );
    expect(ready.status).toBe(503);
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status !== 202);
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('unavailable');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(refused.length).toBeGreaterThan(0);

    await proxy.up();
    const acceptedIds = accepted.map((a) => a.body.data.runId as string);
    expect(await storedRunIds(acceptedIds)).toEqual([...acceptedIds].sort());
    // The sender retries what was refused, with the same webhook-id: each is accepted once.
    const retried: HttpAnswer[] = [];
    for (const [n, answer] of answers.entries()) {
      if (answer.status !== 202) retried.push(await client.deliver(webhook, { n }, `msg_pg_${n}`));
    }
    expect(retried.map((a) => a.status)).toEqual(retried.map(() => 202));
    const runIds = [warm, ...accepted, ...retried].map((a) => a.body.data.runId as string);
    expect(new Set(runIds).size).toBe(21);
    const statuses = await client.waitForTerminal(runIds);
    expect([...statuses.values()]).toEqual(runIds.map(() => 'completed'));
  });

  it('ends no accepted run failed while the database is gone for longer than all of a job’s attempts', async () => {
    const redis = await ownRedis();
    const proxy = await proxyTo(TEST_DATABASE_URL);
    const env = envFor({ REDIS_URL: redis.url });
    const api = await start(['api'], env);
    // Every try is logged (no flood guard here): the log is how the test sees the tries.
    const worker = await start(['worker'], { ...env, DATABASE_URL: proxy.url, LOG_REPEAT_BURST: '10000' });
    const client = new ProcessClient(api.baseUrl);
    const webhook = await client.createWebhookWorkflow();

    await proxy.down();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, n) => client.deliver(webhook, { n }, `msg_pg_down_${n}`)),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
    const runIds = answers.map((a) => a.body.data.runId as string);
    // A job has 5 attempts; every run is tried more often than that while the database is away, and
    // none of them ends (the API process reads the runs straight from PostgreSQL).
    await waitUntil(
      async () => {
        const runs = await Promise.all(runIds.map((id) => client.run(id)));
        expect(runs.filter((run) => run.completedAt !== null)).toEqual([]);
        return runIds.every((id) => new RegExp(`Run ${id} waits for the database \\(try 6`).test(worker.output()));
      },
      40_000,
      'every run to be tried six times without its database',
    );

    await proxy.up();
    const statuses = await client.waitForTerminal(runIds);
    expect([...statuses.values()]).toEqual(runIds.map(() => 'completed'));
  });

  it('keeps a done http step done when its checkpoint cannot be written at first: no second request', async () => {
    const redis = await ownRedis();
    const proxy = await proxyTo(TEST_DATABASE_URL);
    const sink = await new HttpSink().start();
    started.push(sink);
    // The database goes away while the receiver handles the request: the step succeeds, its checkpoint
    // cannot be written.
    sink.on('/effect', async (_req, res) => {
      if (sink.to('/effect').length === 1) await proxy.down();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"charged":true}');
    });
    const env = envFor({ REDIS_URL: redis.url, HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1' });
    const api = await start(['api'], env);
    await start(['worker'], { ...env, DATABASE_URL: proxy.url });
    const client = new ProcessClient(api.baseUrl);
    const workflow = await client.request('POST', '/v1/workflows', {
      name: 'side effect',
      definition: {
        steps: [{ id: 'charge', type: 'http', request: { method: 'POST', url: `${sink.url}/effect`, body: 'input' } }],
        output: 'steps.charge.output.body',
      },
    });
    const accepted = await client.request('POST', `/v1/workflows/${workflow.body.data.id}/runs`, { input: { n: 1 } });
    expect(accepted.status).toBe(202);
    const runId = accepted.body.data.id as string;

    // Back once the worker has tried the database a few times since.
    await waitUntil(async () => proxy.refused >= 3, 30_000, 'the worker to try the database three times');
    await proxy.up();
    const statuses = await client.waitForTerminal([runId]);
    expect(statuses.get(runId)).toBe('completed');
    expect((await client.run(runId)).output).toEqual({ charged: true });
    expect(sink.to('/effect')).toHaveLength(1);
  });

  it('hands a run back on SIGTERM during a long step: the worker exits 0 and another one finishes the run', async () => {
    const redis = await ownRedis();
    const sink = await new HttpSink().start();
    started.push(sink);
    let held: ServerResponse | undefined;
    sink.on('/slow', (_req, res) => {
      // The first request hangs until its client goes away; the ones after it are answered.
      if (held === undefined) held = res;
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const env = envFor({
      REDIS_URL: redis.url,
      HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const api = await start(['api'], env);
    const first = await start(['worker'], env);
    const client = new ProcessClient(api.baseUrl);
    const workflow = await client.request('POST', '/v1/workflows', {
      name: 'long step',
      definition: {
        steps: [
          { id: 'call', type: 'http', request: { method: 'POST', url: `${sink.url}/slow`, body: 'input' } },
          { id: 'done', type: 'transform', expression: 'steps.call.output.body.ok' },
        ],
      },
    });
    const started202 = await client.request('POST', `/v1/workflows/${workflow.body.data.id}/runs`, { input: { n: 1 } });
    expect(started202.status).toBe(202);
    const runId = started202.body.data.id as string;
    await waitUntil(async () => sink.to('/slow').length === 1, 20_000, 'the first worker to send the request');

    const second = await start(['worker'], env);
    expect(await first.stop('SIGTERM')).toBe(0);
    expect(first.output()).toMatch(/handing 1 back to the queue/);
    expect(first.output()).toContain('hookrun stopped');

    const statuses = await new ProcessClient(api.baseUrl).waitForTerminal([runId]);
    expect(statuses.get(runId)).toBe('completed');
    const run = await client.run(runId);
    expect(run.output).toBe(true);
    const requests = sink.to('/slow');
    // One request was aborted by the stop; exactly one more went out, with the same Idempotency-Key.
    expect(requests.map((r) => r.aborted)).toEqual([true, false]);
    expect(requests[1].idempotencyKey).toBe(requests[0].idempotencyKey);
    expect(second.output()).not.toContain(`Run ${runId} attempt`);
  });
});
