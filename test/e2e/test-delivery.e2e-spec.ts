import { generateKeyPairSync } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { expectError } from '../support/expect-error.js';
import { createTrigger, createWebhookWorkflow, createWorkflow } from '../support/factories.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil } from '../support/wait-for.js';

interface Delivery {
  outcome: string;
  statusCode: number;
  errorCode: string | null;
  runId: string | null;
  deliveryId: string | null;
}

describe('test deliveries signed by the server', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const send = (workflowId: string, body: object) =>
    t.http().post(`/v1/workflows/${workflowId}/trigger/webhook/test-delivery`).set(t.auth).send(body);

  const deliveriesOf = async (workflowId: string): Promise<Delivery[]> => {
    const res = await t.http().get(`/v1/workflows/${workflowId}/trigger/webhook/deliveries`).set(t.auth);
    expect(res.status).toBe(200);
    return res.body.data as Delivery[];
  };

  it('goes through the real webhook URL: a run starts, and the delivery log shows it accepted', async () => {
    const workflow = await createWebhookWorkflow(t);
    const res = await send(workflow.id, { body: { n: 21 } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { status: 202, deliveryOutcome: 'accepted', runId: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toContain(workflow.trigger.secret.slice('whsec_'.length, 26));

    const run = await waitForRun(t, res.body.data.runId);
    expect(run).toEqual(
      expect.objectContaining({
        workflowId: workflow.id,
        status: 'completed',
        output: { doubled: 42 },
        input: { n: 21 },
      }),
    );
    expect(run.trigger).toEqual({ type: 'webhook', webhookId: expect.stringMatching(/^msg_test_/) });
    const [logged] = await deliveriesOf(workflow.id);
    expect(logged).toEqual(
      expect.objectContaining({
        outcome: 'accepted',
        statusCode: 202,
        runId: run.id,
        deliveryId: (run.trigger as { webhookId: string }).webhookId,
      }),
    );
  });

  it.each([
    ['github', { scheme: 'github', secret: 'a github secret of some length' }],
    ['stripe', { scheme: 'stripe', secret: 'whsec_stripeTestSecret123' }],
    ['slack', { scheme: 'slack', secret: 'slack-signing-secret-0123' }],
    ['hmac-sha256', { scheme: 'hmac-sha256', options: { signatureHeader: 'x-signature', encoding: 'base64' } }],
    ['token', { scheme: 'token', options: { tokenHeader: 'authorization', prefix: 'Bearer ' } }],
  ])('signs with the %s scheme', async (_name, trigger) => {
    const { id } = await createWorkflow(t);
    await createTrigger(t, id, trigger);
    const res = await send(id, { body: { n: 1 } });
    expect(res.body.data).toEqual({ status: 202, deliveryOutcome: 'accepted', runId: expect.any(String) });
    expect((await waitForRun(t, res.body.data.runId)).output).toEqual({ doubled: 2 });
  });

  it('reports what the URL answered when it refuses, and logs it like any refused delivery', async () => {
    const workflow = await createWebhookWorkflow(t);
    await t
      .http()
      .patch(`/v1/workflows/${workflow.id}/trigger/webhook`)
      .set(t.auth)
      .send({ enabled: false })
      .expect(200);
    const res = await send(workflow.id, { body: { n: 1 } });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ status: 404, deliveryOutcome: 'rejected', errorCode: 'trigger_not_found' });
    await waitUntil(async () => (await deliveriesOf(workflow.id)).length === 1, 10_000, 'the refused delivery logged');
    expect((await deliveriesOf(workflow.id))[0]).toEqual(
      expect.objectContaining({ outcome: 'rejected', statusCode: 404, errorCode: 'trigger_not_found', runId: null }),
    );
  });

  it('refuses a trigger that holds only a public key, a workflow without trigger, and a missing body', async () => {
    const { publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x as string, 'base64url').toString('base64');
    const { id } = await createWorkflow(t);
    await createTrigger(t, id, { secret: `whpk_${raw}` });
    expectError(await send(id, { body: {} }), 409, 'trigger_not_signable');

    const bare = await createWorkflow(t);
    expectError(await send(bare.id, { body: {} }), 404, 'trigger_not_found');
    expectError(await send(id, {}), 400, 'validation_failed');
    expectError(
      await t.http().post(`/v1/workflows/${id}/trigger/webhook/test-delivery`).send({ body: {} }),
      401,
      'unauthorized',
    );
  });
});
