import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { signedHeaders } from '../support/signing.js';
import { deleteQueueKeys, testQueuePrefix } from '../support/test-app.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

/** The built app as separate API and worker processes on PostgreSQL and Redis, as in production. */
describe('API and worker as separate processes', () => {
  const env = {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    BOOTSTRAP_API_KEY: TEST_API_KEY,
    QUEUE_PREFIX: testQueuePrefix(),
    LOG_LEVEL: 'info',
  };
  const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
  let api: HookrunProcess;
  let worker: HookrunProcess | undefined;

  beforeAll(async () => {
    await ensureTestDatabase();
    api = await startHookrun(['api'], env);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await api?.stop('SIGKILL');
    await deleteQueueKeys(TEST_REDIS_URL, env.QUEUE_PREFIX);
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are checked field by field
  const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, any> });

  it('serves the OpenAPI document with request and response schemas and examples', async () => {
    const doc = (await json(await fetch(`${api.baseUrl}/docs-json`))).body;
    const schemas = doc.components.schemas as Record<string, { properties?: Record<string, { example?: unknown }> }>;
    for (const name of [
      'CreateWorkflowDto',
      'WorkflowResponse',
      'RunResponse',
      'CreatedWebhookTriggerResponse',
      'WebhookDeliveryResponse',
      'ErrorResponseDto',
    ]) {
      expect(Object.keys(schemas[name]?.properties ?? {}).length).toBeGreaterThan(0);
    }
    expect(schemas.WorkflowResponse.properties?.name.example).toBe('Score new deals');
    expect(schemas.CreateWebhookTriggerDto.properties?.filter).toEqual(
      expect.objectContaining({ type: 'string', nullable: true, maxLength: 4096 }),
    );
    expect(schemas.WebhookTriggerResponse.properties?.filter).toEqual(expect.objectContaining({ nullable: true }));
    expect(Object.keys(schemas.FilteredWebhookResponse?.properties ?? {})).toEqual(['filtered']);
    expect(schemas.CreateWorkflowDto.properties?.definition.example).toEqual(
      expect.objectContaining({ steps: expect.any(Array) }),
    );
    const create = doc.paths['/v1/workflows'].post;
    expect(create.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/CreateWorkflowDto');
    expect(create.responses['400'].content['application/json'].examples.invalid_definition).toBeDefined();
    // The Swagger plugin documents a 200 for a route unless told otherwise: this one never answers it.
    const refused = doc.paths['/webhooks/workflows/{slug}'].get.responses;
    expect(Object.keys(refused)).toEqual(['405']);
    expect(refused['405'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
  });

  it('accepts webhooks in the API process and completes their runs in the worker process', async () => {
    const workflow = await json(
      await fetch(`${api.baseUrl}/v1/workflows`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          name: 'two processes',
          definition: { steps: [{ id: 'pid', type: 'transform', expression: 'input.n + 1' }] },
        }),
      }),
    );
    expect(workflow.status).toBe(201);
    const trigger = await json(
      await fetch(`${api.baseUrl}/v1/workflows/${workflow.body.data.id}/trigger/webhook`, {
        method: 'POST',
        headers: auth,
        body: '{}',
      }),
    );
    const path = new URL(trigger.body.data.url as string).pathname;

    const runIds: string[] = [];
    for (let n = 0; n < 10; n++) {
      const body = JSON.stringify({ n });
      const res = await json(
        await fetch(`${api.baseUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signedHeaders(trigger.body.data.secret as string, body) },
          body,
        }),
      );
      expect(res.status).toBe(202);
      runIds.push(res.body.data.runId as string);
    }

    // The API process runs no workers: the runs wait in the queue.
    const queued = await json(await fetch(`${api.baseUrl}/v1/workflow-runs/${runIds[0]}`, { headers: auth }));
    expect(queued.body.data.status).toBe('queued');

    worker = await startHookrun(['worker'], env);
    // The worker serves its health checks only.
    expect((await fetch(`${worker.baseUrl}/v1/workflows`, { headers: auth })).status).toBe(404);

    await waitUntil(
      async () => {
        const runs = await Promise.all(
          runIds.map(
            async (id) =>
              (await json(await fetch(`${api.baseUrl}/v1/workflow-runs/${id}`, { headers: auth }))).body.data,
          ),
        );
        return runs.every((r) => r.status === 'completed');
      },
      20_000,
      'runs to complete in the worker process',
    );
    const outputs = await Promise.all(
      runIds.map(
        async (id) =>
          (await json(await fetch(`${api.baseUrl}/v1/workflow-runs/${id}`, { headers: auth }))).body.data.output,
      ),
    );
    expect(outputs).toEqual(Array.from({ length: 10 }, (_, n) => n + 1));

    expect(await worker.stop('SIGTERM')).toBe(0);
    expect(await api.stop('SIGTERM')).toBe(0);
    expect(api.output()).toContain('SIGTERM received: shutting down');
  });
});
