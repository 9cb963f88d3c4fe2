import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import type { Response } from 'supertest';

import { expectError } from '../support/expect-error.js';
import { createTrigger, createWorkflow, type CreatedTrigger } from '../support/factories.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil } from '../support/wait-for.js';

interface Delivery {
  outcome: string;
  statusCode: number;
  errorCode: string | null;
  deliveryId: string | null;
  runId: string | null;
  reason: string | null;
}

describe('trigger filters', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const triggerPath = (workflowId: string) => `/v1/workflows/${workflowId}/trigger/webhook`;

  const filteredWorkflow = async (filter: string): Promise<{ id: string; trigger: CreatedTrigger }> => {
    const { id } = await createWorkflow(t);
    return { id, trigger: await createTrigger(t, id, { filter }) };
  };

  const deliver = (trigger: CreatedTrigger, body: object, options: { id?: string; headers?: object } = {}) => {
    const text = JSON.stringify(body);
    return t
      .http()
      .post(trigger.path)
      .set('content-type', 'application/json')
      .set({ ...options.headers, ...signedHeaders(trigger.secret, text, { id: options.id }) })
      .send(text);
  };

  const patchFilter = async (workflowId: string, filter: string | null) => {
    const res = await t.http().patch(triggerPath(workflowId)).set(t.auth).send({ filter });
    expect(res.status).toBe(200);
    return res.body.data as { filter: string | null };
  };

  const runIdsOf = async (workflowId: string): Promise<string[]> => {
    const res = await t.http().get(`/v1/workflows/${workflowId}/runs?limit=100`).set(t.auth);
    expect(res.status).toBe(200);
    return (res.body.data as { id: string }[]).map((run) => run.id);
  };

  /** Rejected and filtered deliveries are written in batches after the answer: the log is polled for them. */
  const waitForDeliveries = async (workflowId: string, count: number, query = ''): Promise<Delivery[]> => {
    let seen: Delivery[] = [];
    await waitUntil(
      async () => {
        const res = await t
          .http()
          .get(`${triggerPath(workflowId)}/deliveries?limit=100${query}`)
          .set(t.auth);
        seen = res.body.data as Delivery[];
        return seen.length >= count;
      },
      10_000,
      `${count} deliveries`,
    );
    return seen;
  };

  it('saves the filter, returns it, changes it and clears it with null', async () => {
    const { id } = await createWorkflow(t);
    const created = await t.http().post(triggerPath(id)).set(t.auth).send({ filter: 'body.amount > 100' });
    expect(created.status).toBe(201);
    expect(created.body.data.filter).toBe('body.amount > 100');
    expect((await t.http().get(triggerPath(id)).set(t.auth)).body.data.filter).toBe('body.amount > 100');

    // A PATCH without filter keeps it.
    const disabled = await t.http().patch(triggerPath(id)).set(t.auth).send({ enabled: false });
    expect(disabled.body.data).toEqual(expect.objectContaining({ enabled: false, filter: 'body.amount > 100' }));
    expect((await patchFilter(id, 'body.amount > 200')).filter).toBe('body.amount > 200');
    expect((await patchFilter(id, null)).filter).toBeNull();
    expect((await t.http().get(triggerPath(id)).set(t.auth)).body.data.filter).toBeNull();
  });

  it('answers 400 validation_failed naming filter for JSONata that does not compile, too long, or not a string', async () => {
    const { id } = await createWorkflow(t);
    const refused = async (send: () => PromiseLike<Response>) => {
      const res = await send();
      expectError(res, 400, 'validation_failed');
      const fields = (res.body as { error: { details: { field: string }[] } }).error.details.map((d) => d.field);
      expect(new Set(fields)).toEqual(new Set(['filter']));
    };
    await refused(() => t.http().post(triggerPath(id)).set(t.auth).send({ filter: 'body.amount >' }));
    await refused(() =>
      t
        .http()
        .post(triggerPath(id))
        .set(t.auth)
        .send({ filter: 'x'.repeat(4097) }),
    );
    await refused(() => t.http().post(triggerPath(id)).set(t.auth).send({ filter: 42 }));
    await refused(() => t.http().post(triggerPath(id)).set(t.auth).send({ filter: '   ' }));
    // Nothing was saved: the workflow still has no trigger.
    expectError(await t.http().get(triggerPath(id)).set(t.auth), 404, 'trigger_not_found');

    await createTrigger(t, id, { filter: 'body.ok' });
    await refused(() => t.http().patch(triggerPath(id)).set(t.auth).send({ filter: '$count(' }));
    expect((await t.http().get(triggerPath(id)).set(t.auth)).body.data.filter).toBe('body.ok');
  });

  it('starts a run for a delivery the filter passes, and none for one it does not: 200 filtered, logged filtered', async () => {
    const { id, trigger } = await filteredWorkflow('body.n > 10');

    const passed = await deliver(trigger, { n: 21 });
    expect(passed.status).toBe(202);
    expect(await waitForRun(t, passed.body.data.runId)).toEqual(
      expect.objectContaining({ status: 'completed', output: { doubled: 42 } }),
    );

    for (const body of [{ n: 3 }, { other: true }]) {
      const stopped = await deliver(trigger, body, { id: `msg_stopped_${body.n ?? 'none'}` });
      expect({ status: stopped.status, body: stopped.body as unknown }).toEqual({
        status: 200,
        body: { data: { filtered: true } },
      });
      expect(stopped.headers.location).toBeUndefined();
    }
    expect(await runIdsOf(id)).toEqual([passed.body.data.runId]);

    const filtered = await waitForDeliveries(id, 2, '&outcome=filtered');
    expect(filtered).toEqual([
      expect.objectContaining({ outcome: 'filtered', statusCode: 200, errorCode: null, runId: null, reason: null }),
      expect.objectContaining({ outcome: 'filtered', deliveryId: 'msg_stopped_3' }),
    ]);
    expect(filtered[0].deliveryId).toBe('msg_stopped_none');
    const all = await waitForDeliveries(id, 3);
    expect(all.map((d) => d.outcome)).toEqual(['filtered', 'filtered', 'accepted']);
  });

  it('filters on headers, named in lower case', async () => {
    const { id, trigger } = await filteredWorkflow('headers."x-github-event" = "push"');
    const push = await deliver(trigger, { n: 1 }, { headers: { 'X-GitHub-Event': 'push' } });
    expect(push.status).toBe(202);
    const issues = await deliver(trigger, { n: 2 }, { headers: { 'X-GitHub-Event': 'issues' } });
    expect(issues.status).toBe(200);
    expect(issues.body).toEqual({ data: { filtered: true } });
    const none = await deliver(trigger, { n: 3 });
    expect(none.status).toBe(200);
    expect(await runIdsOf(id)).toEqual([push.body.data.runId]);
  });

  it('answers 500 filter_failed for a failing filter, starts no run, logs why, and takes the retry once corrected', async () => {
    const { id, trigger } = await filteredWorkflow('body.name + 1 > 0');
    const body = { name: 'Ada Lovelace' };
    const failed = await deliver(trigger, body, { id: 'msg_fails_first' });
    expectError(failed, 500, 'filter_failed');
    const message = (failed.body as { error: { message: string } }).error.message;
    expect(message).not.toContain('Ada');
    expect(message).not.toContain('body.name');
    expect(message).not.toContain(trigger.secret);
    expect(await runIdsOf(id)).toEqual([]);

    const [logged] = await waitForDeliveries(id, 1, '&outcome=filter_failed');
    expect(logged).toEqual(
      expect.objectContaining({
        outcome: 'filter_failed',
        statusCode: 500,
        errorCode: 'filter_failed',
        deliveryId: 'msg_fails_first',
        runId: null,
        reason: expect.stringMatching(/must evaluate to a number/),
      }),
    );
    expect(logged.reason).not.toContain('Ada');

    await patchFilter(id, '$length(body.name) > 0');
    const retried = await deliver(trigger, body, { id: 'msg_fails_first' });
    expect(retried.status).toBe(202);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(await runIdsOf(id)).toEqual([retried.body.data.runId]);
  });

  it('verifies first: a bad signature answers 401 invalid_signature whatever the filter', async () => {
    const { trigger } = await filteredWorkflow('body.name + 1 > 0');
    const text = JSON.stringify({ name: 'x' });
    const res = await t
      .http()
      .post(trigger.path)
      .set('content-type', 'application/json')
      .set(signedHeaders(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, text))
      .send(text);
    expectError(res, 401, 'invalid_signature');
  });

  it('evaluates a filtered delivery again when retried, and answers a retry of an accepted one as its replay', async () => {
    const { id, trigger } = await filteredWorkflow('body.n > 10');
    const filtered = await deliver(trigger, { n: 5 }, { id: 'msg_retry_filtered' });
    expect(filtered.status).toBe(200);
    const accepted = await deliver(trigger, { n: 50 }, { id: 'msg_retry_accepted' });
    expect(accepted.status).toBe(202);

    // The filter now takes what it refused and refuses what it took.
    await patchFilter(id, 'body.n < 10');
    const retriedFiltered = await deliver(trigger, { n: 5 }, { id: 'msg_retry_filtered' });
    expect(retriedFiltered.status).toBe(202);
    const retriedAccepted = await deliver(trigger, { n: 50 }, { id: 'msg_retry_accepted' });
    expect(retriedAccepted.status).toBe(202);
    expect(retriedAccepted.headers['idempotent-replayed']).toBe('true');
    expect(retriedAccepted.body.data.runId).toBe(accepted.body.data.runId);
    expect((await runIdsOf(id)).sort()).toEqual([accepted.body.data.runId, retriedFiltered.body.data.runId].sort());
  });

  it('reports a filtered test delivery as filtered', async () => {
    const { id } = await filteredWorkflow('body.n > 10');
    const res = await t
      .http()
      .post(`${triggerPath(id)}/test-delivery`)
      .set(t.auth)
      .send({ body: { n: 1 } });
    expect(res.body).toEqual({ data: { status: 200, deliveryOutcome: 'filtered' } });
  });
});
