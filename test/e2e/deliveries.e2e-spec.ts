import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { v7 as uuidv7 } from 'uuid';

import { WebhookDeliveriesPruner } from '../../src/modules/webhooks/deliveries/webhook-deliveries.pruner.js';
import { WebhookDeliveriesRecorder } from '../../src/modules/webhooks/deliveries/webhook-deliveries.recorder.js';
import { expectError } from '../support/expect-error.js';
import { createTrigger, createWebhookWorkflow, createWorkflow } from '../support/factories.js';
import { githubSignature, slackSignature } from '../support/provider-signing.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait-for.js';

interface Delivery {
  id: string;
  receivedAt: string;
  outcome: 'accepted' | 'replayed' | 'rejected';
  statusCode: number;
  errorCode: string | null;
  bodyBytes: number | null;
  bodySha256: string | null;
  deliveryId: string | null;
  runId: string | null;
  requestId: string | null;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const MAX_BODY_BYTES = 2048;

describe('webhook delivery log', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      worker: false,
      env: { WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES), DELIVERY_RETENTION_HOURS: '24' },
    });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const list = async (workflowId: string, query = ''): Promise<{ data: Delivery[]; nextCursor: string | null }> => {
    const res = await t.http().get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries${query}`).set(t.auth);
    expect({ status: res.status, body: res.body as unknown }).toEqual({ status: 200, body: expect.anything() });
    return res.body;
  };

  /** Deliveries are written in batches after the answer, so the log is polled until it has them all. */
  const waitForDeliveries = async (workflowId: string, count: number): Promise<Delivery[]> => {
    let seen: Delivery[] = [];
    await waitUntil(
      async () => {
        seen = (await list(workflowId, '?limit=100')).data;
        return seen.length >= count;
      },
      10_000,
      `${count} deliveries`,
    );
    return seen;
  };

  const post = (path: string, body: string, headers: Record<string, string>, contentType = 'application/json') =>
    t.http().post(path).set('content-type', contentType).set(headers).send(body);

  it('records accepted, replayed and every kind of rejected request, newest first, without bodies or secrets', async () => {
    const { id: workflowId, trigger } = await createWebhookWorkflow(t);
    const sent: {
      res: { status: number; headers: Record<string, string>; body: Record<string, never> };
      body: string;
    }[] = [];
    const send = async (body: string, headers: Record<string, string>, contentType?: string) => {
      const res = await post(trigger.path, body, headers, contentType);
      sent.push({ res, body });
      return res;
    };

    const acceptedBody = JSON.stringify({ n: 1, marker: 'accepted-body-text' });
    const acceptedHeaders = signedHeaders(trigger.secret, acceptedBody, { id: 'msg_log_1' });
    const accepted = await send(acceptedBody, acceptedHeaders);
    const replayed = await send(acceptedBody, signedHeaders(trigger.secret, acceptedBody, { id: 'msg_log_1' }));
    const wrongSecret = `whsec_${randomBytes(32).toString('base64')}`;
    await send('{"n":2}', signedHeaders(wrongSecret, '{"n":2}'));
    await send('{"n":3}', {});
    const notJson = '{"n": 4';
    await send(notJson, signedHeaders(trigger.secret, notJson, { id: 'msg_log_bad_json' }));
    await send('hello', signedHeaders(trigger.secret, 'hello', { id: 'msg_log_text' }), 'text/plain');
    const tooBig = JSON.stringify({ pad: 'x'.repeat(MAX_BODY_BYTES) });
    await send(tooBig, signedHeaders(trigger.secret, tooBig));
    expect(sent.map((s) => s.res.status)).toEqual([202, 202, 401, 401, 400, 415, 413]);

    // An unknown slug has no trigger to list it under: nothing is recorded for it.
    await post('/webhooks/workflows/no-such-slug', '{}', signedHeaders(trigger.secret, '{}')).expect(404);

    const deliveries = await waitForDeliveries(workflowId, sent.length);
    expect(deliveries).toHaveLength(sent.length);
    // Newest first: the reverse of the order sent.
    const expected = [...sent].reverse();
    expect(deliveries.map((d) => d.requestId)).toEqual(expected.map((s) => s.res.headers['x-request-id']));
    expect(deliveries.map((d) => [d.outcome, d.statusCode, d.errorCode])).toEqual([
      ['rejected', 413, 'payload_too_large'],
      ['rejected', 415, 'unsupported_media_type'],
      ['rejected', 400, 'invalid_json'],
      ['rejected', 401, 'missing_signature'],
      ['rejected', 401, 'invalid_signature'],
      ['replayed', 202, null],
      ['accepted', 202, null],
    ]);
    const byOutcome = (outcome: string) => deliveries.filter((d) => d.outcome === outcome);
    expect(byOutcome('accepted')[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      receivedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      outcome: 'accepted',
      statusCode: 202,
      errorCode: null,
      bodyBytes: Buffer.byteLength(acceptedBody),
      bodySha256: sha256(acceptedBody),
      deliveryId: 'msg_log_1',
      runId: accepted.body.data.runId,
      requestId: accepted.headers['x-request-id'],
      reason: null,
    });
    expect(byOutcome('replayed')[0]).toEqual(
      expect.objectContaining({ deliveryId: 'msg_log_1', runId: replayed.body.data.runId }),
    );
    expect(replayed.body.data.runId).toBe(accepted.body.data.runId);
    // A rejection after the signature verified keeps the delivery id; one before it cannot have it.
    const [tooLarge, text, badJson, missing, invalid] = deliveries;
    expect([badJson.deliveryId, text.deliveryId]).toEqual(['msg_log_bad_json', 'msg_log_text']);
    expect([invalid.deliveryId, missing.deliveryId, tooLarge.deliveryId]).toEqual([null, null, null]);
    expect(badJson).toEqual(expect.objectContaining({ bodyBytes: notJson.length, bodySha256: sha256(notJson) }));
    // The body over the limit was never read: its declared size, no hash.
    expect(tooLarge).toEqual(expect.objectContaining({ bodyBytes: Buffer.byteLength(tooBig), bodySha256: null }));
    expect(deliveries.every((d) => d.runId === null || d.outcome !== 'rejected')).toBe(true);

    // What is stored holds no body and no secret.
    const rows: { row: string }[] = await t.db.query(`SELECT row_to_json(d)::text AS row FROM webhook_deliveries d`);
    const stored = rows.map((r) => r.row).join('\n');
    expect(stored).not.toContain('accepted-body-text');
    expect(stored).not.toContain(trigger.secret);
    expect(stored).not.toContain(trigger.secret.slice('whsec_'.length));
    expect(stored).not.toContain(acceptedHeaders['webhook-signature'].slice(3));
  });

  it('records requests to a disabled trigger (404) and rate-limited ones (429)', async () => {
    const rateLimited = await startTestApp({ worker: false, env: { WEBHOOK_RATE_LIMIT_PER_SECOND: '1' } });
    try {
      const { id: workflowId, trigger } = await createWebhookWorkflow(rateLimited);
      const send = () => {
        const body = JSON.stringify({ n: randomUUID() });
        return rateLimited
          .http()
          .post(trigger.path)
          .set('content-type', 'application/json')
          .set(signedHeaders(trigger.secret, body))
          .send(body);
      };
      const statuses = [(await send()).status, (await send()).status, (await send()).status];
      expect(statuses).toEqual([202, 202, 429]);
      await rateLimited
        .http()
        .patch(`/v1/workflows/${workflowId}/trigger/webhook`)
        .set(rateLimited.auth)
        .send({ enabled: false })
        .expect(200);
      expectError(await send(), 404, 'trigger_not_found');

      let deliveries: Delivery[] = [];
      await waitUntil(async () => {
        const res = await rateLimited
          .http()
          .get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries`)
          .set(rateLimited.auth);
        deliveries = res.body.data as Delivery[];
        return deliveries.length >= 4;
      });
      expect(deliveries.map((d) => [d.outcome, d.statusCode, d.errorCode])).toEqual([
        ['rejected', 404, 'trigger_not_found'],
        ['rejected', 429, 'rate_limited'],
        ['accepted', 202, null],
        ['accepted', 202, null],
      ]);
      // The 429 came after the signature verified, so it names the delivery it refused.
      expect(deliveries[1].deliveryId).toEqual(expect.stringMatching(/^msg_/));
    } finally {
      await rateLimited.close();
    }
  });

  it('filters by outcome and since, pages with limit and cursor, and validates its query', async () => {
    const { id: workflowId, trigger } = await createWebhookWorkflow(t);
    const send = (key: string) => {
      const body = JSON.stringify({ n: randomUUID() });
      return post(trigger.path, body, signedHeaders(key, body));
    };
    const wrong = `whsec_${randomBytes(32).toString('base64')}`;
    for (const key of [trigger.secret, wrong, trigger.secret, wrong, trigger.secret]) await send(key);
    const all = await waitForDeliveries(workflowId, 5);

    const accepted = await list(workflowId, '?outcome=accepted');
    expect(accepted.data.map((d) => d.outcome)).toEqual(['accepted', 'accepted', 'accepted']);
    const rejected = await list(workflowId, '?outcome=rejected');
    expect(rejected.data.map((d) => d.errorCode)).toEqual(['invalid_signature', 'invalid_signature']);
    expect((await list(workflowId, '?outcome=replayed')).data).toEqual([]);

    const since = all[1].receivedAt;
    const recent = await list(workflowId, `?since=${encodeURIComponent(since)}`);
    expect(recent.data.map((d) => d.id)).toEqual(all.filter((d) => d.receivedAt >= since).map((d) => d.id));
    expect(
      (await list(workflowId, `?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).data,
    ).toEqual([]);

    const first = await list(workflowId, '?limit=2');
    expect(first.data.map((d) => d.id)).toEqual(all.slice(0, 2).map((d) => d.id));
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await list(workflowId, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.data.map((d) => d.id)).toEqual(all.slice(2, 4).map((d) => d.id));
    const last = await list(workflowId, `?limit=2&cursor=${second.nextCursor}`);
    expect(last.data.map((d) => d.id)).toEqual([all[4].id]);
    expect(last.nextCursor).toBeNull();

    const get = (query: string) => t.http().get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries${query}`);
    for (const query of [
      '?outcome=lost',
      '?since=yesterday',
      '?since=2026-13-01T00:00:00Z',
      '?limit=0',
      '?cursor=zzz',
    ]) {
      expectError(await get(query).set(t.auth), 400, 'validation_failed');
    }
    expectError(await get(''), 401, 'unauthorized');
    const bare = await createWorkflow(t);
    expectError(
      await t.http().get(`/v1/workflows/${bare.id}/trigger/webhook/deliveries`).set(t.auth),
      404,
      'trigger_not_found',
    );
    expectError(
      await t.http().get(`/v1/workflows/${randomUUID()}/trigger/webhook/deliveries`).set(t.auth),
      404,
      'workflow_not_found',
    );
  });

  it('lists deliveries of other schemes with their own delivery ids', async () => {
    const { id: workflowId } = await createWorkflow(t);
    const secret = `gh-${randomBytes(16).toString('hex')}`;
    const trigger = await createTrigger(t, workflowId, { scheme: 'github', secret });
    const body = JSON.stringify({ action: 'opened' });
    const guid = randomUUID();
    const headers = { 'x-github-delivery': guid, 'x-hub-signature-256': githubSignature(secret, body) };
    expect((await post(trigger.path, body, headers)).status).toBe(202);
    expect((await post(trigger.path, body, headers)).status).toBe(202);
    expectError(
      await post(trigger.path, body, { ...headers, 'x-hub-signature-256': 'sha256=00' }),
      401,
      'invalid_signature',
    );
    const deliveries = await waitForDeliveries(workflowId, 3);
    expect(deliveries.map((d) => [d.outcome, d.deliveryId])).toEqual([
      ['rejected', null],
      ['replayed', guid],
      ['accepted', guid],
    ]);

    // Slack's URL verification handshake is accepted without a run.
    const slack = await createWorkflow(t);
    const slackSecret = randomBytes(16).toString('hex');
    const slackTrigger = await createTrigger(t, slack.id, { scheme: 'slack', secret: slackSecret });
    const challenge = JSON.stringify({ type: 'url_verification', challenge: 'abc123' });
    const ts = Math.floor(Date.now() / 1000);
    const handshake = await post(slackTrigger.path, challenge, {
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': slackSignature(slackSecret, ts, challenge),
    });
    expect(handshake.status).toBe(200);
    const [logged] = await waitForDeliveries(slack.id, 1);
    expect(logged).toEqual(expect.objectContaining({ outcome: 'accepted', statusCode: 200, runId: null }));
  });

  it('answers webhooks at once while the log cannot be written, and records them once it can', async () => {
    const { id: workflowId, trigger } = await createWebhookWorkflow(t);
    const send = () => {
      const body = JSON.stringify({ n: randomUUID() });
      return post(trigger.path, body, signedHeaders(trigger.secret, body));
    };
    // A transaction holding the table's strongest lock: every INSERT into it waits.
    const blocker = t.db.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('LOCK TABLE webhook_deliveries IN ACCESS EXCLUSIVE MODE');
    const answer = async (i: number) => {
      const started = Date.now();
      const res = i % 2 === 0 ? await send() : await post(trigger.path, '{}', {});
      expect(res.status).toBe(i % 2 === 0 ? 202 : 401);
      expect(Date.now() - started).toBeLessThan(1000);
    };
    try {
      for (let i = 0; i < 10; i++) await answer(i);
      // The log's writer is now stuck behind the lock...
      await waitUntil(async () => {
        const [{ count }] = await t.db.query(
          `SELECT count(*)::int AS count FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO webhook_deliveries%'`,
        );
        return count === 1;
      });
      // ...and webhooks are still answered at once.
      for (let i = 10; i < 20; i++) await answer(i);
    } finally {
      await blocker.rollbackTransaction();
      await blocker.release();
    }
    const deliveries = await waitForDeliveries(workflowId, 20);
    expect(deliveries.filter((d) => d.outcome === 'accepted')).toHaveLength(10);
  });

  it('answers webhooks as usual when writing the log fails', async () => {
    const { id: workflowId, trigger } = await createWebhookWorkflow(t);
    const first = JSON.stringify({ n: 1 });
    await t.db.query('ALTER TABLE webhook_deliveries RENAME TO webhook_deliveries_away');
    try {
      expect((await post(trigger.path, first, signedHeaders(trigger.secret, first))).status).toBe(202);
      expectError(await post(trigger.path, first, {}), 401, 'missing_signature');
      await t.app.get(WebhookDeliveriesRecorder).flush();
    } finally {
      await t.db.query('ALTER TABLE webhook_deliveries_away RENAME TO webhook_deliveries');
    }
    // The rejection was dropped (the failure is logged); the accepted delivery is logged in its run's
    // row, which the outage did not touch; and the log goes on with the next ones.
    const second = JSON.stringify({ n: 2 });
    expect((await post(trigger.path, second, signedHeaders(trigger.secret, second))).status).toBe(202);
    expectError(await post(trigger.path, second, {}), 401, 'missing_signature');
    await waitForDeliveries(workflowId, 3);
    await t.app.get(WebhookDeliveriesRecorder).flush();
    const deliveries = (await list(workflowId, '?limit=100')).data;
    expect(deliveries.map((d) => [d.outcome, d.bodySha256])).toEqual([
      ['rejected', sha256(second)],
      ['accepted', sha256(second)],
      ['accepted', sha256(first)],
    ]);
  });

  it('skips deliveries of a trigger deleted before they were written, without losing the rest of the batch', async () => {
    const kept = await createWebhookWorkflow(t);
    const gone = await createWebhookWorkflow(t);
    const triggerId = async (slug: string) => {
      const rows: { id: string }[] = await t.db.query('SELECT id FROM webhook_triggers WHERE slug = $1', [slug]);
      return rows[0].id;
    };
    const [keptTrigger, goneTrigger] = [await triggerId(kept.trigger.slug), await triggerId(gone.trigger.slug)];
    await t.http().delete(`/v1/workflows/${gone.id}/trigger/webhook`).set(t.auth).expect(204);
    const recorder = t.app.get(WebhookDeliveriesRecorder);
    const delivery = (id: string, triggerId: string, workflowId: string) => ({
      id,
      triggerId,
      workflowId,
      receivedAt: new Date(),
      outcome: 'rejected' as const,
      statusCode: 401,
      errorCode: 'invalid_signature',
      bodyBytes: 2,
      bodySha256: sha256('{}'),
      deliveryId: null,
      runId: null,
      requestId: null,
      reason: null,
    });
    // Ids as the delivery log makes them (UUIDv7 of the time received): pruning goes by id.
    const [a, b] = [uuidv7(), uuidv7()];
    recorder.record(delivery(a, goneTrigger, gone.id));
    recorder.record(delivery(b, keptTrigger, kept.id));
    await recorder.flush();
    const rows: { id: string }[] = await t.db.query('SELECT id FROM webhook_deliveries WHERE id = ANY($1)', [[a, b]]);
    expect(rows.map((r) => r.id)).toEqual([b]);
  });

  it('deletes deliveries with their trigger, and prunes those past DELIVERY_RETENTION_HOURS', async () => {
    const { id: workflowId, trigger } = await createWebhookWorkflow(t);
    const body = '{}';
    await post(trigger.path, body, signedHeaders(trigger.secret, body)).expect(202);
    await waitForDeliveries(workflowId, 1);
    const [{ id: triggerId }] = await t.db.query('SELECT id FROM webhook_triggers WHERE slug = $1', [trigger.slug]);
    // As the delivery log writes them: the id is a UUIDv7 of the time received.
    const insertAged = async (hoursAgo: number) => {
      const receivedAt = new Date(Date.now() - hoursAgo * 3_600_000);
      const id = uuidv7({ msecs: receivedAt.getTime() });
      await t.db.query(
        `INSERT INTO webhook_deliveries (id, trigger_id, workflow_id, received_at, outcome, status_code)
         VALUES ($1, $2, $3, $4, 'rejected', 401)`,
        [id, triggerId, workflowId, receivedAt],
      );
      return id;
    };
    const old = [await insertAged(25), await insertAged(24 * 30)];
    const young = await insertAged(23);
    // A run the trigger started 25 hours ago stands for a delivery past retention too.
    const agedRun = uuidv7({ msecs: Date.now() - 25 * 3_600_000 });
    await t.db.query(
      `INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, input,
                                  created_at, completed_at, body_bytes, body_sha256)
       VALUES ($1, $2, 1, 'completed', 'webhook', $3, 'msg_aged', '{}', now() - interval '25 hours',
               now() - interval '25 hours', 2, $4)`,
      [agedRun, workflowId, triggerId, sha256('{}')],
    );

    expect(await t.app.get(WebhookDeliveriesPruner).prune()).toBe(2);
    const remaining = (await list(workflowId)).data.map((d) => d.id);
    expect(remaining).toContain(young);
    for (const id of [...old, agedRun]) expect(remaining).not.toContain(id);
    expect(remaining).toHaveLength(2);

    await t.http().delete(`/v1/workflows/${workflowId}/trigger/webhook`).set(t.auth).expect(204);
    const [{ count }] = await t.db.query(
      'SELECT count(*)::int AS count FROM webhook_deliveries WHERE trigger_id = $1',
      [triggerId],
    );
    expect(count).toBe(0);
  });
});
