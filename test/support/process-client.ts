import { expect } from '@jest/globals';

import { TEST_API_KEY } from './env.js';
import { ONE_STEP_DEFINITION } from './factories.js';
import { signedHeaders } from './signing.js';
import { waitUntil } from './wait-for.js';

export interface HttpAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
  body: Record<string, any>;
}

export interface ProcessWebhook {
  workflowId: string;
  path: string;
  secret: string;
}

/** The HTTP API of a hookrun process started by `startHookrun`, as a client outside it sees it. */
export class ProcessClient {
  private readonly auth = { authorization: `Bearer ${TEST_API_KEY}` };

  constructor(readonly baseUrl: string) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<HttpAnswer> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { ...this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as HttpAnswer['body']) : {} };
  }

  async createWebhookWorkflow(definition: object = ONE_STEP_DEFINITION): Promise<ProcessWebhook> {
    const workflow = await this.request('POST', '/v1/workflows', { name: 'fault test', definition });
    expect(workflow.status).toBe(201);
    const trigger = await this.request('POST', `/v1/workflows/${workflow.body.data.id}/trigger/webhook`, {});
    expect(trigger.status).toBe(201);
    return {
      workflowId: workflow.body.data.id as string,
      path: new URL(trigger.body.data.url as string).pathname,
      secret: trigger.body.data.secret as string,
    };
  }

  /** One signed delivery; `id` is its webhook-id (a retry sends the same one). */
  async deliver(webhook: ProcessWebhook, payload: unknown, id: string): Promise<HttpAnswer> {
    const body = JSON.stringify(payload);
    const res = await fetch(`${this.baseUrl}${webhook.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signedHeaders(webhook.secret, body, { id }) },
      body,
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as HttpAnswer['body']) : {} };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs are checked field by field
  async run(id: string): Promise<Record<string, any>> {
    const answer = await this.request('GET', `/v1/workflow-runs/${id}`);
    expect(answer.status).toBe(200);
    return answer.body.data as Record<string, unknown>;
  }

  /** Polls until every run is terminal; gives their statuses by id. */
  async waitForTerminal(ids: string[], timeoutMs = 60_000): Promise<Map<string, string>> {
    const statuses = new Map<string, string>();
    await waitUntil(
      async () => {
        for (const id of ids) {
          if (['completed', 'failed', 'cancelled'].includes(statuses.get(id) ?? '')) continue;
          const answer = await this.request('GET', `/v1/workflow-runs/${id}`).catch(() => null);
          if (answer?.status === 200) statuses.set(id, answer.body.data.status as string);
        }
        return ids.every((id) => ['completed', 'failed', 'cancelled'].includes(statuses.get(id) ?? ''));
      },
      timeoutMs,
      `${ids.length} runs to finish`,
    );
    return statuses;
  }
}
