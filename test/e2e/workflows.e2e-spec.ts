import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { expectError } from '../support/expect-error.js';
import { createTrigger, createWorkflow, ONE_STEP_DEFINITION } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

const V2 = { steps: [{ id: 'triple', type: 'transform', expression: 'input.n * 3' }] };

describe('workflows', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  it('creates, reads, lists, updates and deletes a workflow', async () => {
    const created = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'Deals', description: 'scores deals', definition: ONE_STEP_DEFINITION });
    expect(created.status).toBe(201);
    const workflow = created.body.data;
    expect(workflow).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/),
      name: 'Deals',
      description: 'scores deals',
      enabled: true,
      version: 1,
      definition: ONE_STEP_DEFINITION,
      runRetentionDays: null,
      webhookTrigger: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    expect((await t.http().get(`/v1/workflows/${workflow.id}`).set(t.auth)).body.data).toEqual(workflow);
    const list = await t.http().get('/v1/workflows').set(t.auth);
    expect(list.body.data.map((w: { id: string }) => w.id)).toContain(workflow.id);

    const patched = await t
      .http()
      .patch(`/v1/workflows/${workflow.id}`)
      .set(t.auth)
      .send({ name: 'Deals 2', description: null, enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toEqual(
      expect.objectContaining({ name: 'Deals 2', description: null, enabled: false, version: 1 }),
    );

    await t.http().delete(`/v1/workflows/${workflow.id}`).set(t.auth).expect(204);
    expectError(await t.http().get(`/v1/workflows/${workflow.id}`).set(t.auth), 404, 'workflow_not_found');
    expectError(await t.http().delete(`/v1/workflows/${workflow.id}`).set(t.auth), 404, 'workflow_not_found');
    expectError(
      await t.http().patch(`/v1/workflows/${workflow.id}`).set(t.auth).send({ name: 'x' }),
      404,
      'workflow_not_found',
    );
  });

  it('answers 404 workflow_not_found for unknown or malformed ids', async () => {
    expectError(
      await t.http().get('/v1/workflows/0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a').set(t.auth),
      404,
      'workflow_not_found',
    );
    expectError(await t.http().get('/v1/workflows/not-a-uuid').set(t.auth), 404, 'workflow_not_found');
  });

  it('shows the webhook trigger summary on the workflow, never its secret', async () => {
    const { id } = await createWorkflow(t);
    const trigger = await createTrigger(t, id);
    const res = await t.http().get(`/v1/workflows/${id}`).set(t.auth);
    expect(res.body.data.webhookTrigger).toEqual({
      slug: trigger.slug,
      url: `http://hookrun.test/webhooks/workflows/${trigger.slug}`,
      scheme: 'standard-webhooks',
      enabled: true,
    });
    expect(JSON.stringify(res.body)).not.toContain(trigger.secret);
  });

  it('shows each listed workflow with its own trigger summary, or null', async () => {
    const withTrigger = await createWorkflow(t);
    const trigger = await createTrigger(t, withTrigger.id);
    const without = await createWorkflow(t);
    const res = await t.http().get('/v1/workflows?limit=100').set(t.auth);
    expect(res.status).toBe(200);
    const byId = new Map(res.body.data.map((w: { id: string }) => [w.id, w]));
    expect(byId.get(withTrigger.id)).toEqual(
      expect.objectContaining({ webhookTrigger: expect.objectContaining({ slug: trigger.slug, enabled: true }) }),
    );
    expect(byId.get(without.id)).toEqual(expect.objectContaining({ webhookTrigger: null }));
  });

  it('makes a new version on each definition change, keeps the old ones, and restores one as a new version', async () => {
    const { id } = await createWorkflow(t);
    const same = await t.http().patch(`/v1/workflows/${id}`).set(t.auth).send({ definition: ONE_STEP_DEFINITION });
    expect(same.body.data.version).toBe(1);
    const v2 = await t.http().patch(`/v1/workflows/${id}`).set(t.auth).send({ definition: V2 });
    expect(v2.body.data).toEqual(expect.objectContaining({ version: 2, definition: V2 }));

    const versions = await t.http().get(`/v1/workflows/${id}/versions`).set(t.auth);
    expect(versions.status).toBe(200);
    expect(versions.body.data.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(versions.body.data[1].definition).toEqual(ONE_STEP_DEFINITION);
    expect(versions.body.nextCursor).toBeNull();

    const restored = await t.http().post(`/v1/workflows/${id}/versions/restore`).set(t.auth).send({ version: 1 });
    expect(restored.status).toBe(200);
    expect(restored.body.data).toEqual(expect.objectContaining({ version: 3, definition: ONE_STEP_DEFINITION }));
    expectError(
      await t.http().post(`/v1/workflows/${id}/versions/restore`).set(t.auth).send({ version: 9 }),
      404,
      'version_not_found',
    );
  });

  it('refuses definitions that do not validate with 400 invalid_definition naming the step and the problem', async () => {
    const cases: [object, RegExp][] = [
      [
        {
          steps: [
            { id: 'a', type: 'transform', expression: '1' },
            { id: 'a', type: 'transform', expression: '2' },
          ],
        },
        /"a".*duplicate|duplicate.*"a"/i,
      ],
      [{ steps: [{ type: 'transform', expression: '1' }] }, /steps\[0\].*id/i],
      [{ steps: [{ id: 'x', type: 'teleport' }] }, /"x".*type/i],
      [{ steps: [{ id: 'bad', type: 'transform', expression: '$$$(' }] }, /"bad".*compile/i],
      [{ steps: [{ id: 'gate', type: 'condition', expression: 'true', then: 'nope', else: null }] }, /"gate".*nope/i],
      [
        {
          steps: [
            { id: 'first', type: 'transform', expression: '1' },
            { id: 'gate', type: 'condition', expression: 'true', then: 'first', else: null },
          ],
        },
        /"gate".*first/i,
      ],
      [{ steps: Array.from({ length: 101 }, (_, i) => ({ id: `s${i}`, type: 'transform', expression: '1' })) }, /100/],
    ];
    for (const [definition, message] of cases) {
      const res = await t.http().post('/v1/workflows').set(t.auth).send({ name: 'bad', definition });
      expectError(res, 400, 'invalid_definition');
      expect(res.body.error.message).toMatch(message);
    }
    const { id } = await createWorkflow(t);
    const res = await t
      .http()
      .patch(`/v1/workflows/${id}`)
      .set(t.auth)
      .send({ definition: { steps: 'no' } });
    expectError(res, 400, 'invalid_definition');
    expect((await t.http().get(`/v1/workflows/${id}`).set(t.auth)).body.data.version).toBe(1);
    const [{ count }] = await t.db.query("SELECT count(*)::int AS count FROM workflows WHERE name = 'bad'");
    expect(count).toBe(0);
  });

  describe('webhook trigger management', () => {
    it('creates one trigger per workflow with a generated slug and secret, and 409 trigger_exists after', async () => {
      const { id } = await createWorkflow(t);
      const res = await t
        .http()
        .post(`/v1/workflows/${id}/trigger/webhook`)
        .set(t.auth)
        .send({ toleranceSeconds: 120 });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual({
        slug: expect.stringMatching(/^[A-Za-z0-9_-]{22,}$/),
        url: `http://hookrun.test/webhooks/workflows/${res.body.data.slug}`,
        secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
        scheme: 'standard-webhooks',
        options: {},
        enabled: true,
        toleranceSeconds: 120,
        filter: null,
        createdAt: expect.any(String),
      });
      expectError(
        await t.http().post(`/v1/workflows/${id}/trigger/webhook`).set(t.auth).send({}),
        409,
        'trigger_exists',
      );

      const got = await t.http().get(`/v1/workflows/${id}/trigger/webhook`).set(t.auth);
      expect(got.status).toBe(200);
      expect(got.body.data.secret).toBeUndefined();
      expect(JSON.stringify(got.body)).not.toContain(res.body.data.secret);

      const patched = await t
        .http()
        .patch(`/v1/workflows/${id}/trigger/webhook`)
        .set(t.auth)
        .send({ toleranceSeconds: 60, enabled: false });
      expect(patched.body.data).toEqual(expect.objectContaining({ toleranceSeconds: 60, enabled: false }));
      expectError(
        await t.http().patch(`/v1/workflows/${id}/trigger/webhook`).set(t.auth).send({ scheme: 'carrier-pigeon' }),
        400,
        'validation_failed',
      );

      await t.http().delete(`/v1/workflows/${id}/trigger/webhook`).set(t.auth).expect(204);
      expectError(await t.http().get(`/v1/workflows/${id}/trigger/webhook`).set(t.auth), 404, 'trigger_not_found');
      expectError(await t.http().delete(`/v1/workflows/${id}/trigger/webhook`).set(t.auth), 404, 'trigger_not_found');
      expectError(
        await t.http().post(`/v1/workflows/${id}/trigger/webhook-secret/rotate`).set(t.auth).send({}),
        404,
        'trigger_not_found',
      );
    });

    it('makes one trigger from parallel creations', async () => {
      const { id } = await createWorkflow(t);
      const responses = await Promise.all(
        Array.from({ length: 10 }, () => t.http().post(`/v1/workflows/${id}/trigger/webhook`).set(t.auth).send({})),
      );
      expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
      expect(responses.filter((r) => r.status === 409)).toHaveLength(9);
    });

    it('answers 404 workflow_not_found for a trigger of an unknown workflow', async () => {
      expectError(
        await t.http().post('/v1/workflows/0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a/trigger/webhook').set(t.auth).send({}),
        404,
        'workflow_not_found',
      );
    });
  });
});
