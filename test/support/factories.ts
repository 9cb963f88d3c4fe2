import { expect } from '@jest/globals';

import type { TestApp } from './test-app.js';

export const ONE_STEP_DEFINITION = {
  steps: [{ id: 'double', type: 'transform', expression: 'input.n * 2' }],
  output: '{ "doubled": steps.double.output }',
};

export interface CreatedWorkflow {
  id: string;
  version: number;
}

export async function createWorkflow(t: TestApp, definition: object = ONE_STEP_DEFINITION): Promise<CreatedWorkflow> {
  const res = await t.http().post('/v1/workflows').set(t.auth).send({ name: 'test workflow', definition });
  expect(res.status).toBe(201);
  return res.body.data as CreatedWorkflow;
}

export interface CreatedTrigger {
  slug: string;
  url: string;
  secret: string;
  path: string;
}

export async function createTrigger(t: TestApp, workflowId: string, body: object = {}): Promise<CreatedTrigger> {
  const res = await t.http().post(`/v1/workflows/${workflowId}/trigger/webhook`).set(t.auth).send(body);
  expect(res.status).toBe(201);
  const trigger = res.body.data as Omit<CreatedTrigger, 'path'>;
  return { ...trigger, path: `/webhooks/workflows/${trigger.slug}` };
}

/** A workflow with a webhook trigger, ready to receive signed posts. */
export async function createWebhookWorkflow(
  t: TestApp,
  definition: object = ONE_STEP_DEFINITION,
): Promise<CreatedWorkflow & { trigger: CreatedTrigger }> {
  const workflow = await createWorkflow(t, definition);
  return { ...workflow, trigger: await createTrigger(t, workflow.id) };
}
