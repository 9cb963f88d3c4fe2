import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';

import { expectError } from '../support/expect-error.js';
import { TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { HttpSink, type SinkRequest } from '../support/http-sink.js';
import { PROJECT_ROOT } from '../support/processes.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, waitUntil } from '../support/wait-for.js';

interface NotificationEvent {
  id: string;
  type: string;
  status: string;
  url: string;
  attempts: { statusCode: number | null; errorCode: string | null; error: string | null; delivered: boolean }[];
}

/**
 * Outbound notifications against a real receiver on 127.0.0.1 (allow-listed by port): the events a run's end
 * sends, signed so that the standardwebhooks library verifies them, retried with the same webhook-id.
 */
describe('notifications', () => {
  const sink = new HttpSink();
  let t: TestApp;

  const FAILING = {
    steps: [{ id: 'boom', type: 'fail', message: 'deal {{ input.deal }} is broken', code: 'bad_deal' }],
  };
  const PASSING = { steps: [{ id: 'ok', type: 'transform', expression: '{ "ok": true }' }] };
  const WAITING = { steps: [{ id: 'nap', type: 'delay', durationMs: 600_000 }] };

  async function createWorkflow(definition: object): Promise<{ id: string; secrets: Map<string, string> }> {
    const res = await t.http().post('/v1/workflows').set(t.auth).send({ name: 'notified', definition });
    expect(res.status).toBe(201);
    const secrets = new Map<string, string>(
      ((res.body.data.notifySecrets ?? []) as { url: string; secret: string }[]).map((s) => [s.url, s.secret]),
    );
    return { id: res.body.data.id as string, secrets };
  }

  async function startRun(workflowId: string, input: object = { deal: 'D-1' }): Promise<string> {
    const res = await t.http().post(`/v1/workflows/${workflowId}/runs`).set(t.auth).send({ input });
    expect(res.status).toBe(202);
    return res.body.data.id as string;
  }

  async function eventsOf(runId: string): Promise<NotificationEvent[]> {
    const res = await t.http().get(`/v1/workflow-runs/${runId}/notifications`).set(t.auth);
    expect(res.status).toBe(200);
    return res.body.data as NotificationEvent[];
  }

  /** Until every event of the run is delivered or failed. */
  async function settledEventsOf(runId: string, count: number): Promise<NotificationEvent[]> {
    let events: NotificationEvent[] = [];
    await waitUntil(
      async () => {
        events = await eventsOf(runId);
        return events.length === count && events.every((e) => e.status !== 'pending');
      },
      15_000,
      `the notifications of run ${runId} to settle`,
    );
    return events;
  }

  function verify(request: SinkRequest, secret: string): unknown {
    return new Webhook(secret).verify(request.body, {
      'webhook-id': request.headers['webhook-id'] as string,
      'webhook-timestamp': request.headers['webhook-timestamp'] as string,
      'webhook-signature': request.headers['webhook-signature'] as string,
    });
  }

  beforeAll(async () => {
    await sink.start();
    t = await startTestApp({
      env: {
        HTTP_STEP_ALLOWED_HOSTS: `127.0.0.1:${new URL(sink.url).port}`,
        NOTIFY_RETRY_BASE_MS: '50',
      },
    });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t?.close();
    await sink.stop();
  });

  it('sends one signed run.failed event that the standardwebhooks library verifies', async () => {
    const url = `${sink.url}/failed`;
    const workflow = await createWorkflow({ ...FAILING, notify: [{ url, events: ['run.failed'] }] });
    const secret = workflow.secrets.get(url) as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const runId = await startRun(workflow.id);
    const run = await waitForRun(t, runId);
    expect(run.status).toBe('failed');
    const [event] = await settledEventsOf(runId, 1);

    expect(event).toMatchObject({ type: 'run.failed', status: 'delivered', url });
    expect(event.attempts).toEqual([expect.objectContaining({ statusCode: 200, delivered: true, errorCode: null })]);
    const received = sink.to('/failed');
    expect(received).toHaveLength(1);
    expect(received[0].headers['webhook-id']).toBe(event.id);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(verify(received[0], secret)).toEqual({
      type: 'run.failed',
      timestamp: run.completedAt,
      data: {
        runId,
        workflowId: workflow.id,
        workflowName: 'notified',
        status: 'failed',
        error: { code: 'bad_deal', message: 'deal D-1 is broken', stepId: 'boom' },
        startedAt: run.startedAt,
        completedAt: run.completedAt,
        links: {
          run: `http://hookrun.test/v1/workflow-runs/${runId}`,
          workflow: `http://hookrun.test/v1/workflows/${workflow.id}`,
        },
      },
    });
    // Another secret does not verify it.
    expect(() => verify(received[0], `whsec_${randomBytes(32).toString('base64')}`)).toThrow();
  });

  it('retries a receiver that answers 500 twice and delivers on the third attempt, with the same webhook-id', async () => {
    sink.failFirst('/flaky', 2, 500);
    const url = `${sink.url}/flaky`;
    const workflow = await createWorkflow({ ...FAILING, notify: [{ url, events: ['run.failed'] }] });
    const runId = await startRun(workflow.id);

    const [event] = await settledEventsOf(runId, 1);

    expect(event.status).toBe('delivered');
    expect(event.attempts.map((a) => [a.statusCode, a.delivered])).toEqual([
      [500, false],
      [500, false],
      [200, true],
    ]);
    expect(event.attempts[0].error).toBe('the endpoint answered with status 500');
    const received = sink.to('/flaky');
    expect(received.map((r) => r.headers['webhook-id'])).toEqual([event.id, event.id, event.id]);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
    for (const request of received) expect(verify(request, workflow.secrets.get(url) as string)).toBeTruthy();
  });

  it('refuses a receiver on a loopback address that is not allow-listed, and the attempt says so', async () => {
    const url = `http://localhost:${new URL(sink.url).port}/private`;
    const workflow = await createWorkflow({ ...FAILING, notify: [{ url, events: ['run.failed'] }] });
    const runId = await startRun(workflow.id);

    const [event] = await settledEventsOf(runId, 1);

    expect(event.status).toBe('failed');
    expect(event.attempts).toEqual([
      expect.objectContaining({
        statusCode: null,
        delivered: false,
        errorCode: 'ssrf_blocked',
        error: 'requests to "localhost" are refused: it names this machine (loopback)',
      }),
    ]);
    expect(sink.to('/private')).toEqual([]);
  });

  it('sends run.completed and run.cancelled, and nothing to an endpoint not subscribed to the event', async () => {
    const all = `${sink.url}/all`;
    const failedOnly = `${sink.url}/failed-only`;
    const notify = [
      { url: all, events: ['run.completed', 'run.cancelled', 'run.failed'] },
      { url: failedOnly, events: ['run.failed'] },
    ];
    const passing = await createWorkflow({ ...PASSING, notify });
    const waiting = await createWorkflow({ ...WAITING, notify });

    const completedId = await startRun(passing.id);
    expect((await waitForRun(t, completedId)).status).toBe('completed');
    const waitingId = await startRun(waiting.id);
    await waitForRun(t, waitingId, { statuses: ['running'] });
    expect((await t.http().post(`/v1/workflow-runs/${waitingId}/cancel`).set(t.auth)).status).toBe(200);

    const [completed] = await settledEventsOf(completedId, 1);
    const [cancelled] = await settledEventsOf(waitingId, 1);

    expect(completed).toMatchObject({ type: 'run.completed', status: 'delivered', url: all });
    expect(cancelled).toMatchObject({ type: 'run.cancelled', status: 'delivered', url: all });
    const byId = new Map(sink.to('/all').map((r) => [r.headers['webhook-id'], r]));
    expect(byId.size).toBe(2);
    expect(verify(byId.get(completed.id) as SinkRequest, passing.secrets.get(all) as string)).toMatchObject({
      type: 'run.completed',
      data: { runId: completedId, status: 'completed', error: null },
    });
    expect(verify(byId.get(cancelled.id) as SinkRequest, waiting.secrets.get(all) as string)).toMatchObject({
      type: 'run.cancelled',
      data: { runId: waitingId, status: 'cancelled' },
    });
    expect(sink.to('/failed-only')).toEqual([]);
  });

  it('lists endpoints without secrets, and a rotated secret signs the next event (the old one no more)', async () => {
    const url = `${sink.url}/rotated`;
    const workflow = await createWorkflow({ ...FAILING, notify: [{ url, events: ['run.failed'] }] });
    const oldSecret = workflow.secrets.get(url) as string;

    const listed = await t.http().get(`/v1/workflows/${workflow.id}/notify-endpoints`).set(t.auth);
    expect(listed.status).toBe(200);
    expect(listed.body.data).toEqual([
      {
        id: expect.any(String),
        url,
        events: ['run.failed'],
        createdAt: expect.any(String),
        secretRotatedAt: expect.any(String),
      },
    ]);
    const endpointId = listed.body.data[0].id as string;
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');

    const rotated = await t
      .http()
      .post(`/v1/workflows/${workflow.id}/notify-endpoints/${endpointId}/rotate-secret`)
      .set(t.auth);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.body.data.secret as string;
    expect(newSecret).toMatch(/^whsec_/);
    expect(newSecret).not.toBe(oldSecret);

    const runId = await startRun(workflow.id);
    await settledEventsOf(runId, 1);
    const [received] = sink.to('/rotated');
    expect(verify(received, newSecret)).toMatchObject({ type: 'run.failed', data: { runId } });
    expect(() => verify(received, oldSecret)).toThrow();

    // A save that keeps the URL keeps the endpoint and its secret, and shows no secret.
    const saved = await t
      .http()
      .patch(`/v1/workflows/${workflow.id}`)
      .set(t.auth)
      .send({ definition: { ...FAILING, notify: [{ url, events: ['run.failed', 'run.completed'] }] } });
    expect(saved.status).toBe(200);
    expect(saved.body.data.notifySecrets).toBeUndefined();
    const after = await t.http().get(`/v1/workflows/${workflow.id}/notify-endpoints`).set(t.auth);
    expect(after.body.data).toEqual([
      expect.objectContaining({ id: endpointId, events: ['run.failed', 'run.completed'] }),
    ]);

    const unknown = await t
      .http()
      .post(`/v1/workflows/${workflow.id}/notify-endpoints/0193a8f2-7d2e-7f01-9b3c-4d5e6f708192/rotate-secret`)
      .set(t.auth);
    expectError(unknown, 404, 'notify_endpoint_not_found');
  });

  it('writes the event in the transaction of whichever statement ends the run', async () => {
    const url = `${sink.url}/any-path`;
    const workflow = await createWorkflow({ ...WAITING, notify: [{ url, events: ['run.failed'] }] });
    const runId = await startRun(workflow.id);
    await waitForRun(t, runId, { statuses: ['running'] });

    // As a statement of the reconciler or a future path would: nothing in the application is told.
    await t.db.query(
      `UPDATE workflow_runs SET status = 'failed', completed_at = now(), updated_at = now(),
              error = '{"code":"run_timeout","message":"ended elsewhere","stepId":null}'::jsonb
        WHERE id = $1`,
      [runId],
    );

    const [event] = await settledEventsOf(runId, 1);
    expect(event).toMatchObject({ type: 'run.failed', status: 'delivered' });
    const [received] = sink.to('/any-path');
    expect(verify(received, workflow.secrets.get(url) as string)).toMatchObject({
      data: { runId, status: 'failed', error: { code: 'run_timeout', message: 'ended elsewhere', stepId: null } },
    });
  });

  it('writes no event for the runs of a workflow without notify', async () => {
    const workflow = await createWorkflow(PASSING);
    const runId = await startRun(workflow.id);
    await waitForRun(t, runId);

    expect(await eventsOf(runId)).toEqual([]);
    const [{ count }] = await t.db.query<{ count: string }[]>(
      'SELECT count(*) FROM notification_events WHERE run_id = $1',
      [runId],
    );
    expect(Number(count)).toBe(0);
  });

  it('refuses a notify that cannot be sent with 400 invalid_definition', async () => {
    const cases: [unknown, string][] = [
      [{ url: 'ftp://example.com/x', events: ['run.failed'] }, 'notify[0]: url must use https: or http:, not "ftp:"'],
      [{ url: 'not a url', events: ['run.failed'] }, 'notify[0]: url must be an absolute URL'],
      [
        { url: 'https://example.com/x', events: ['run.started'] },
        'notify[0]: events has unknown event "run.started" (known events: run.failed, run.completed, run.cancelled)',
      ],
      [{ url: 'https://example.com/x', events: [] }, 'notify[0]: events must be a non-empty array'],
      [{ url: 'https://example.com/x' }, 'notify[0]: missing events'],
    ];
    for (const [endpoint, message] of cases) {
      const res = await t
        .http()
        .post('/v1/workflows')
        .set(t.auth)
        .send({ name: 'bad', definition: { ...PASSING, notify: [endpoint] } });
      expectError(res, 400, 'invalid_definition');
      expect(res.body.error.message).toContain(message);
    }
    const many = Array.from({ length: 11 }, (_, i) => ({ url: `https://example.com/${i}`, events: ['run.failed'] }));
    const tooMany = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'bad', definition: { ...PASSING, notify: many } });
    expectError(tooMany, 400, 'invalid_definition');
    expect(tooMany.body.error.message).toBe('notify: at most 10 endpoints are allowed, got 11');
  });

  it('answers 404 run_not_found for the notifications of an unknown run', async () => {
    const res = await t.http().get('/v1/workflow-runs/0193a8f2-7d2e-7f01-9b3c-4d5e6f708192/notifications').set(t.auth);
    expectError(res, 404, 'run_not_found');
  });

  describe('the instance-wide endpoint (NOTIFY_URL)', () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    let instance: TestApp;

    beforeAll(async () => {
      instance = await startTestApp({
        env: {
          HTTP_STEP_ALLOWED_HOSTS: `127.0.0.1:${new URL(sink.url).port}`,
          NOTIFY_URL: `${sink.url}/instance`,
          NOTIFY_EVENTS: 'run.completed,run.failed',
          NOTIFY_SECRET: secret,
        },
      });
    });

    afterAll(async () => {
      await instance?.close();
      // Other test files share the database: the instance-wide endpoint would reach their runs too.
      await t.db.query('DELETE FROM notify_endpoints WHERE workflow_id IS NULL');
    });

    it("reaches every workflow's runs, signed with NOTIFY_SECRET", async () => {
      const workflow = await createWorkflow(PASSING);
      const runId = await startRun(workflow.id);
      expect((await waitForRun(t, runId)).status).toBe('completed');

      const [event] = await settledEventsOf(runId, 1);

      expect(event).toMatchObject({ type: 'run.completed', status: 'delivered', url: `${sink.url}/instance` });
      // Two apps' dispatchers share the outbox: the event went out once.
      const sent = sink.to('/instance').filter((r) => r.headers['webhook-id'] === event.id);
      expect(sent).toHaveLength(1);
      const [received] = sent;
      expect(verify(received, secret)).toMatchObject({
        type: 'run.completed',
        data: { runId, workflowId: workflow.id },
      });
    });
  });

  describe('secrets:reencrypt', () => {
    const newKey = `k2:${randomBytes(32).toString('base64url')}`;

    it("re-encrypts the endpoints' secrets: they sign with the old key gone", async () => {
      const url = `${sink.url}/reencrypted`;
      const workflow = await createWorkflow({ ...FAILING, notify: [{ url, events: ['run.failed'] }] });
      const child = spawn(process.execPath, [join(PROJECT_ROOT, 'dist', 'database', 'reencrypt-secrets.command.js')], {
        env: {
          PATH: process.env.PATH ?? '',
          DATABASE_URL: TEST_DATABASE_URL,
          SECRETS_ENCRYPTION_KEY: `${newKey},${TEST_ENCRYPTION_KEY}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const [code] = (await once(child, 'close')) as [number | null];
      expect({ code, output }).toEqual({
        code: 0,
        output: expect.stringMatching(
          /Re-encrypted \d+ of \d+ notify endpoint secrets under key "[^"]+"; \d+ already were; 0 could not be read/,
        ),
      });
      const rows: { secret: string }[] = await t.db.query('SELECT secret FROM notify_endpoints');
      for (const row of rows) expect(row.secret).toMatch(/^v1:k2:/);

      // Only the new key from now on: the app of the old key alone goes.
      await t.close();
      t = await startTestApp({
        env: {
          HTTP_STEP_ALLOWED_HOSTS: `127.0.0.1:${new URL(sink.url).port}`,
          SECRETS_ENCRYPTION_KEY: newKey,
        },
      });
      const runId = await startRun(workflow.id);
      const [event] = await settledEventsOf(runId, 1);
      expect(event.status).toBe('delivered');
      const [received] = sink.to('/reencrypted');
      expect(verify(received, workflow.secrets.get(url) as string)).toMatchObject({ data: { runId } });
    });
  });
});
