import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { newId } from '../../src/common/ids.util.js';
import { WebhookRunsRepository } from '../../src/modules/runs/webhook-runs.repository.js';
import { expectError } from '../support/expect-error.js';
import { createTrigger, createWebhookWorkflow, createWorkflow } from '../support/factories.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil } from '../support/wait-for.js';

describe('POST /webhooks/workflows/{slug}', () => {
  let t: TestApp;
  let workflowId: string;
  let secret: string;
  let path: string;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
    const created = await createWebhookWorkflow(t);
    workflowId = created.id;
    secret = created.trigger.secret;
    path = created.trigger.path;
  });

  afterAll(async () => {
    await t.close();
  });

  const post = (body: string, headers: Record<string, string>, contentType = 'application/json') =>
    t.http().post(path).set('content-type', contentType).set(headers).send(body);

  it('accepts a signed delivery with 202, Location and a queued run that completes with its output', async () => {
    const body = JSON.stringify({ n: 21 });
    const headers = signedHeaders(secret, body);
    const res = await post(body, headers);
    expect(res.status).toBe(202);
    expect(res.body.data).toEqual({ runId: expect.any(String), workflowId, status: 'queued' });
    expect(res.headers.location).toBe(`/v1/workflow-runs/${res.body.data.runId}`);
    expect(res.headers['x-request-id']).toEqual(expect.any(String));
    expect(res.headers['idempotent-replayed']).toBeUndefined();

    const run = await waitForRun(t, res.body.data.runId);
    expect(run.status).toBe('completed');
    expect(run.output).toEqual({ doubled: 42 });
    expect(run.input).toEqual({ n: 21 });
    expect(run.trigger).toEqual({ type: 'webhook', webhookId: headers['webhook-id'] });
    expect(run.steps).toEqual([
      expect.objectContaining({ id: 'double', type: 'transform', status: 'completed', output: 42, attempts: 1 }),
    ]);
    const [row] = await t.db.query('SELECT status, output FROM workflow_runs WHERE id = $1', [run.id]);
    expect(row).toEqual({ status: 'completed', output: { doubled: 42 } });
  });

  it('stores the body as the sender sent it, without re-serialising', async () => {
    const body = '{"n":  1, "nested": {"b": [1, 2.5, "x"]}}';
    const res = await post(body, signedHeaders(secret, body), 'application/vnd.acme+json; charset=utf-8');
    expect(res.status).toBe(202);
    const run = await waitForRun(t, res.body.data.runId);
    expect(run.input).toEqual({ n: 1, nested: { b: [1, 2.5, 'x'] } });
  });

  it('accepts the svix-* header names', async () => {
    const body = JSON.stringify({ n: 1 });
    const res = await post(body, signedHeaders(secret, body, { prefix: 'svix' }));
    expect(res.status).toBe(202);
  });

  it('accepts a header with several signatures when one of them matches', async () => {
    const body = JSON.stringify({ n: 2 });
    const headers = signedHeaders(secret, body);
    headers['webhook-signature'] = `v1,${Buffer.alloc(32).toString('base64')} v1a,abc ${headers['webhook-signature']}`;
    expect((await post(body, headers)).status).toBe(202);
  });

  it('turns a form body into an object of its fields', async () => {
    const body = 'name=Ada+Lovelace&tag=a&tag=b&__proto__=x';
    const res = await post(body, signedHeaders(secret, body), 'application/x-www-form-urlencoded');
    expect(res.status).toBe(202);
    const [row] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [res.body.data.runId]);
    expect(row.input).toEqual({ name: 'Ada Lovelace', tag: ['a', 'b'], ['__proto__']: 'x' });
  });

  it('answers a repeated webhook-id with the first run and idempotent-replayed: true, making no new run', async () => {
    const body = JSON.stringify({ n: 5 });
    const headers = signedHeaders(secret, body, { id: 'msg_replay_1' });
    const first = await post(body, headers);
    const again = await post(body, signedHeaders(secret, body, { id: 'msg_replay_1' }));
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body.data.runId).toBe(first.body.data.runId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/v1/workflow-runs/${first.body.data.runId}`);
    const [{ count }] = await t.db.query(
      "SELECT count(*)::int AS count FROM workflow_runs WHERE webhook_id = 'msg_replay_1'",
    );
    expect(count).toBe(1);
  });

  it('makes exactly one run from 50 parallel deliveries of one webhook-id, and no 500', async () => {
    const body = JSON.stringify({ n: 50 });
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => post(body, signedHeaders(secret, body, { id: 'msg_parallel_50' }))),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(202));
    const runIds = new Set(responses.map((r) => r.body.data.runId));
    expect(runIds.size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    const [{ count }] = await t.db.query(
      "SELECT count(*)::int AS count FROM workflow_runs WHERE webhook_id = 'msg_parallel_50'",
    );
    expect(count).toBe(1);
    const run = await waitForRun(t, [...runIds][0]);
    expect(run.output).toEqual({ doubled: 100 });
  });

  it('inserts runs that arrive together in one batch, and a refused input fails only its own run', async () => {
    const [{ id: triggerId }] = await t.db.query('SELECT id FROM webhook_triggers WHERE workflow_id = $1', [
      workflowId,
    ]);
    const repository = t.app.get(WebhookRunsRepository);
    const run = (webhookId: string, inputJson: string) => ({
      id: newId(),
      workflowId,
      triggerId,
      webhookId,
      inputJson,
      delivery: { requestId: null, bodyBytes: inputJson.length, bodySha256: 'x'.repeat(64) },
    });
    const first = run('msg_batch_dup', '{"n": 1}');
    const runs = [
      first,
      run('msg_batch_a', '{"n": 2}'),
      run('msg_batch_bad', '{"n": 1e1000000}'),
      run('msg_batch_dup', '{"n": 3}'),
      run('msg_batch_b', '{"n": 4}'),
    ];
    // Submitted in one tick, they go to PostgreSQL as one statement, which the refused input fails.
    const results = await Promise.allSettled(runs.map((r) => repository.insert(r, Date.now() + 30_000)));

    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.created : (r.reason as Error).message))).toEqual([
      true,
      true,
      'Input holds a number too large to store',
      false,
      true,
    ]);
    expect(results[3]).toEqual({ status: 'fulfilled', value: expect.objectContaining({ id: first.id }) });
    const stored: { webhook_id: string; input: unknown }[] = await t.db.query(
      `SELECT webhook_id, input FROM workflow_runs WHERE webhook_id LIKE 'msg_batch_%' ORDER BY webhook_id`,
    );
    expect(stored).toEqual([
      { webhook_id: 'msg_batch_a', input: { n: 2 } },
      { webhook_id: 'msg_batch_b', input: { n: 4 } },
      { webhook_id: 'msg_batch_dup', input: { n: 1 } },
    ]);
  });

  it('answers each of many parallel deliveries on its own: refused bodies 400, the others one run each', async () => {
    const [{ count: before }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs');
    const refused = ['{"n": 1e1000000}', '{"s": "a\u0000b"}', '{"n": 1', '{"a": 1} trailing'];
    const deliveries = [
      ...Array.from({ length: 30 }, (_, i) => ({ body: JSON.stringify({ n: i }), id: `msg_mixed_${i}` })),
      // A sender's retry racing its first attempt.
      { body: JSON.stringify({ n: 0 }), id: 'msg_mixed_0' },
      ...refused.map((body, i) => ({ body, id: `msg_mixed_refused_${i}` })),
    ];
    const responses = await Promise.all(
      deliveries.map(({ body, id }) => post(body, signedHeaders(secret, body, { id }))),
    );

    for (const res of responses.slice(31)) expectError(res, 400, 'invalid_json');
    const accepted = responses.slice(0, 31);
    expect(accepted.map((r) => r.status)).toEqual(Array(31).fill(202));
    expect(accepted[30].body.data.runId).toBe(accepted[0].body.data.runId);
    expect(new Set(accepted.map((r) => r.body.data.runId)).size).toBe(30);
    const [{ count: after }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs');
    expect(after - before).toBe(30);
    const runs = await Promise.all(accepted.slice(0, 30).map((r) => waitForRun(t, r.body.data.runId)));
    expect(runs.map((run) => run.output)).toEqual(Array.from({ length: 30 }, (_, i) => ({ doubled: i * 2 })));
  });

  describe('rejections', () => {
    const countRuns = async () => {
      const rows: { count: number }[] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs');
      return rows[0].count;
    };

    it('answers 404 trigger_not_found for an unknown slug', async () => {
      const body = '{}';
      const res = await t
        .http()
        .post('/webhooks/workflows/no-such-slug')
        .set('content-type', 'application/json')
        .set(signedHeaders(secret, body))
        .send(body);
      expectError(res, 404, 'trigger_not_found');
    });

    it('answers 404 trigger_not_found when the trigger or its workflow is disabled, and 202 again once enabled', async () => {
      const body = JSON.stringify({ n: 1 });
      await t
        .http()
        .patch(`/v1/workflows/${workflowId}/trigger/webhook`)
        .set(t.auth)
        .send({ enabled: false })
        .expect(200);
      expectError(await post(body, signedHeaders(secret, body)), 404, 'trigger_not_found');
      await t
        .http()
        .patch(`/v1/workflows/${workflowId}/trigger/webhook`)
        .set(t.auth)
        .send({ enabled: true })
        .expect(200);
      await t.http().patch(`/v1/workflows/${workflowId}`).set(t.auth).send({ enabled: false }).expect(200);
      expectError(await post(body, signedHeaders(secret, body)), 404, 'trigger_not_found');
      await t.http().patch(`/v1/workflows/${workflowId}`).set(t.auth).send({ enabled: true }).expect(200);
      expect((await post(body, signedHeaders(secret, body))).status).toBe(202);
    });

    it('answers 404 trigger_not_found once the workflow is deleted', async () => {
      const other = await createWebhookWorkflow(t);
      await t.http().delete(`/v1/workflows/${other.id}`).set(t.auth).expect(204);
      const body = '{}';
      const res = await t
        .http()
        .post(other.trigger.path)
        .set('content-type', 'application/json')
        .set(signedHeaders(other.trigger.secret, body))
        .send(body);
      expectError(res, 404, 'trigger_not_found');
    });

    it('answers 401 missing_signature when any signature header is missing', async () => {
      const body = '{}';
      for (const drop of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
        const headers = signedHeaders(secret, body);
        delete headers[drop];
        expectError(await post(body, headers), 401, 'missing_signature');
      }
    });

    it('answers 401 invalid_signature for a wrong secret, a changed body, or malformed signatures', async () => {
      const before = await countRuns();
      const body = JSON.stringify({ n: 1 });
      const wrongSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
      expectError(await post(body, signedHeaders(wrongSecret, body)), 401, 'invalid_signature');
      expectError(await post(JSON.stringify({ n: 2 }), signedHeaders(secret, body)), 401, 'invalid_signature');
      // The same JSON, re-serialised: the signature covers bytes, not values.
      expectError(await post('{ "n": 1 }', signedHeaders(secret, body)), 401, 'invalid_signature');
      for (const signature of ['v1,', 'v1,abc', 'v1,!!!notbase64!!!', `v1,${'A'.repeat(5000)}`, 'garbage', 'v2,x']) {
        const headers = { ...signedHeaders(secret, body), 'webhook-signature': signature };
        expectError(await post(body, headers), 401, 'invalid_signature');
      }
      expect(await countRuns()).toBe(before);
    });

    it('answers 401 timestamp_out_of_tolerance outside 300 s either way, or for a non-integer timestamp', async () => {
      const body = '{}';
      const now = Math.floor(Date.now() / 1000);
      expectError(
        await post(body, signedHeaders(secret, body, { timestamp: now - 400 })),
        401,
        'timestamp_out_of_tolerance',
      );
      expectError(
        await post(body, signedHeaders(secret, body, { timestamp: now + 400 })),
        401,
        'timestamp_out_of_tolerance',
      );
      for (const bad of ['12.5', '-5', 'soon', '']) {
        const headers = { ...signedHeaders(secret, body), 'webhook-timestamp': bad };
        const res = await post(body, headers);
        expect(res.status).toBe(401);
        expect(['timestamp_out_of_tolerance', 'missing_signature']).toContain(res.body.error.code);
      }
      expect((await post(body, signedHeaders(secret, body, { timestamp: now - 250 }))).status).toBe(202);
    });

    it('answers 400 invalid_json for a signed body that is not JSON', async () => {
      const before = await countRuns();
      const body = '{"n": 1';
      expectError(await post(body, signedHeaders(secret, body)), 400, 'invalid_json');
      expectError(await post('', signedHeaders(secret, '')), 400, 'invalid_json');
      const nul = '{"s": "\\u0000"}';
      expectError(await post(nul, signedHeaders(secret, nul)), 400, 'invalid_json');
      expect(await countRuns()).toBe(before);
    });

    it('answers 400 invalid_json for JSON that JavaScript reads but PostgreSQL cannot store', async () => {
      const before = await countRuns();
      const refused = [
        // Nesting and numbers out of range are refused before PostgreSQL: see hostile-input.e2e-spec.ts.
        ['{"s": "a\u0000b"}', 'Body is not valid JSON (a NUL byte)'],
        ['{"s": "line\nbreak"}', 'Body is not valid JSON'],
        ['{"a": 1} trailing', 'Body is not valid JSON'],
      ];
      for (const [body, message] of refused) {
        const res = await post(body, signedHeaders(secret, body));
        expectError(res, 400, 'invalid_json');
        expect(res.body.error.message).toBe(message);
      }
      expect(await countRuns()).toBe(before);
    });

    it('answers 415 unsupported_media_type for another content type', async () => {
      const body = 'hello';
      expectError(await post(body, signedHeaders(secret, body), 'text/plain'), 415, 'unsupported_media_type');
      const gzipped = await t
        .http()
        .post(path)
        .set('content-type', 'application/json')
        .set('content-encoding', 'gzip')
        .set(signedHeaders(secret, '{}'))
        .send('{}');
      expectError(gzipped, 415, 'unsupported_media_type');
    });

    it('answers 413 payload_too_large over WEBHOOK_MAX_BODY_BYTES (1 MiB)', async () => {
      const body = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
      expectError(await post(body, signedHeaders(secret, body)), 413, 'payload_too_large');
    });
  });

  describe('secret rotation', () => {
    it('keeps the old secret verifying during the grace period, and only the new one after a rotation with 0', async () => {
      const workflow = await createWorkflow(t);
      const trigger = await createTrigger(t, workflow.id);
      const send = (key: string) => {
        const body = JSON.stringify({ n: 3 });
        return t
          .http()
          .post(trigger.path)
          .set('content-type', 'application/json')
          .set(signedHeaders(key, body))
          .send(body);
      };
      const rotated = await t
        .http()
        .post(`/v1/workflows/${workflow.id}/trigger/webhook-secret/rotate`)
        .set(t.auth)
        .send({ gracePeriodSeconds: 3600 });
      expect(rotated.status).toBe(200);
      expect(rotated.body.data.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(rotated.body.data.secret).not.toBe(trigger.secret);
      const expires = Date.parse(rotated.body.data.previousSecretExpiresAt);
      expect(Math.abs(expires - (Date.now() + 3600_000))).toBeLessThan(60_000);

      expect((await send(trigger.secret)).status).toBe(202);
      expect((await send(rotated.body.data.secret)).status).toBe(202);

      const revoked = await t
        .http()
        .post(`/v1/workflows/${workflow.id}/trigger/webhook-secret/rotate`)
        .set(t.auth)
        .send({ gracePeriodSeconds: 0 });
      expect(revoked.status).toBe(200);
      expectError(await send(trigger.secret), 401, 'invalid_signature');
      expectError(await send(rotated.body.data.secret), 401, 'invalid_signature');
      expect((await send(revoked.body.data.secret)).status).toBe(202);
    });

    it('defaults the grace period to 24 hours and refuses more than 7 days', async () => {
      const workflow = await createWorkflow(t);
      await createTrigger(t, workflow.id);
      const rotate = (body: object) =>
        t.http().post(`/v1/workflows/${workflow.id}/trigger/webhook-secret/rotate`).set(t.auth).send(body);
      const res = await rotate({});
      expect(res.status).toBe(200);
      expect(Math.abs(Date.parse(res.body.data.previousSecretExpiresAt) - (Date.now() + 86_400_000))).toBeLessThan(
        60_000,
      );
      expectError(await rotate({ gracePeriodSeconds: 604_801 }), 400, 'validation_failed');
      expectError(await rotate({ gracePeriodSeconds: -1 }), 400, 'validation_failed');
    });
  });
});

describe('rate limit per trigger', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false, env: { WEBHOOK_RATE_LIMIT_PER_SECOND: '1' } });
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers 429 rate_limited with Retry-After past the burst, counting only verified deliveries', async () => {
    const { trigger } = await createWebhookWorkflow(t);
    const send = (key = trigger.secret) => {
      const body = JSON.stringify({ n: 1 });
      return t
        .http()
        .post(trigger.path)
        .set('content-type', 'application/json')
        .set(signedHeaders(key, body))
        .send(body);
    };
    const forged = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    for (let i = 0; i < 5; i++) expectError(await send(forged), 401, 'invalid_signature');
    expect((await send()).status).toBe(202);
    expect((await send()).status).toBe(202);
    const limited = await send();
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});

describe('trigger cache across processes', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    // A long TTL, so that only the change notification can make B see the rotation.
    const env = { TRIGGER_CACHE_TTL_MS: '600000' };
    a = await startTestApp({ worker: false, env });
    b = await startTestApp({ worker: false, env });
  });

  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('drops a cached trigger in every process when another process rotates its secret or disables it', async () => {
    const { id, trigger } = await createWebhookWorkflow(a);
    const sendTo = (t: TestApp, secret: string) => {
      const body = JSON.stringify({ n: 1 });
      return t
        .http()
        .post(trigger.path)
        .set('content-type', 'application/json')
        .set(signedHeaders(secret, body))
        .send(body);
    };
    expect((await sendTo(b, trigger.secret)).status).toBe(202);

    const rotated = await a
      .http()
      .post(`/v1/workflows/${id}/trigger/webhook-secret/rotate`)
      .set(a.auth)
      .send({ gracePeriodSeconds: 0 });
    await waitUntil(async () => (await sendTo(b, trigger.secret)).status === 401, 5000, 'B to refuse the old secret');
    expect((await sendTo(b, rotated.body.data.secret)).status).toBe(202);

    await a.http().patch(`/v1/workflows/${id}`).set(a.auth).send({ enabled: false }).expect(200);
    await waitUntil(
      async () => (await sendTo(b, rotated.body.data.secret)).status === 404,
      5000,
      'B to see the workflow disabled',
    );
  });
});
