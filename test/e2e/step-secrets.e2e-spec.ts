import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY, TEST_REDIS_URL } from '../support/env.js';
import { expectError } from '../support/expect-error.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
import { deleteQueueKeys, resetDatabase, startTestApp, testQueuePrefix, type TestApp } from '../support/test-app.js';
import { waitUntil, type RunBody } from '../support/wait-for.js';

const planted = (label: string) => `${label}-${randomBytes(16).toString('hex')}`;

/** A step that sends the secret in a header, the URL and the body, to a receiver that may echo all of it back. */
function callingDefinition(url: string, extra: object = {}) {
  return {
    steps: [
      {
        id: 'call',
        type: 'http',
        request: {
          method: 'POST',
          url: `${url}?key={{ secrets.CRM_TOKEN }}`,
          headers: { authorization: 'Bearer {{ secrets.CRM_TOKEN }}', 'x-plain': 'hello' },
          body: "{ 'token': $secret('CRM_TOKEN'), 'n': input.n }",
        },
        ...extra,
      },
    ],
  };
}

describe('step secrets: the API', () => {
  let t: TestApp;
  const sink = new HttpSink();

  beforeAll(async () => {
    await sink.start();
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t?.close();
    await sink.stop();
  });

  const put = (name: string, body: unknown) =>
    t
      .http()
      .put(`/v1/secrets/${name}`)
      .set(t.auth)
      .send(body as object);

  it('creates (201) then replaces (200), and never shows the value', async () => {
    const value = planted('api');
    const created = await put('API_TOKEN', { value });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      data: { name: 'API_TOKEN', createdAt: expect.any(String), updatedAt: expect.any(String), usedBy: [] },
    });
    expect(created.body.data.createdAt).toBe(created.body.data.updatedAt);

    const replacement = planted('api2');
    const replaced = await put('API_TOKEN', { value: replacement });
    expect(replaced.status).toBe(200);
    expect(replaced.body.data.createdAt).toBe(created.body.data.createdAt);
    expect(Date.parse(replaced.body.data.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.data.updatedAt));

    const got = await t.http().get('/v1/secrets/API_TOKEN').set(t.auth);
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual({ ...replaced.body.data });
    const listed = await t.http().get('/v1/secrets').set(t.auth);
    expect(listed.status).toBe(200);
    for (const res of [created, replaced, got, listed]) {
      expect(JSON.stringify(res.body)).not.toContain(value);
      expect(JSON.stringify(res.body)).not.toContain(replacement);
    }
    // Encrypted at rest, under the configured key.
    const [row] = await t.db.query(`SELECT ciphertext FROM step_secrets WHERE name = 'API_TOKEN'`);
    expect(row.ciphertext).toMatch(/^v1:k1:/);
    expect(row.ciphertext).not.toContain(replacement);
  });

  it('lists by name, in pages', async () => {
    for (const name of ['LIST_C', 'LIST_A', 'LIST_B'])
      expect((await put(name, { value: planted(name) })).status).toBe(201);
    const first = await t.http().get('/v1/secrets?limit=2').set(t.auth);
    expect(first.body.data.map((s: { name: string }) => s.name)).toEqual(['API_TOKEN', 'LIST_A']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.http().get(`/v1/secrets?limit=2&cursor=${first.body.nextCursor}`).set(t.auth);
    expect(second.body).toEqual({
      data: [expect.objectContaining({ name: 'LIST_B' }), expect.objectContaining({ name: 'LIST_C' })],
      nextCursor: null,
    });
    expectError(await t.http().get('/v1/secrets?cursor=bm9wZQ').set(t.auth), 400, 'validation_failed');
  });

  it('refuses bad names and values with 400, and unknown names with 404', async () => {
    for (const name of ['lower', '1ABC', 'A-B', `A${'B'.repeat(64)}`]) {
      const res = await put(name, { value: 'x' });
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ field: 'name', message: expect.any(String) }]);
    }
    for (const body of [{}, { value: '' }, { value: 42 }, { value: 'x'.repeat(8193) }, { value: 'x', other: 1 }]) {
      expectError(await put('GOOD_NAME', body), 400, 'validation_failed');
    }
    expect((await put('LONGEST', { value: 'x'.repeat(8192) })).status).toBe(201);
    expectError(await t.http().get('/v1/secrets/NOPE').set(t.auth), 404, 'secret_not_found');
    expectError(await t.http().delete('/v1/secrets/NOPE').set(t.auth), 404, 'secret_not_found');
    expectError(await t.http().get('/v1/secrets/not-a-name').set(t.auth), 404, 'secret_not_found');
    expectError(await t.http().get('/v1/secrets').set({ Authorization: 'Bearer hr_nope' }), 401, 'unauthorized');
    expectError(await put('NO_AUTH', { value: 'x' }).set({ Authorization: '' }), 401, 'unauthorized');
  });

  it('refuses at save a definition that uses an unknown secret, naming it and the step', async () => {
    const res = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'w', definition: callingDefinition(sink.url) });
    expectError(res, 400, 'invalid_definition');
    expect(res.body.error.message).toContain('"CRM_TOKEN"');
    expect(res.body.error.message).toContain('step "call"');

    // Secrets are for http requests: a transform's output is stored.
    expect((await put('CRM_TOKEN', { value: planted('crm') })).status).toBe(201);
    const leaking = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .send({ name: 'w', definition: { steps: [{ id: 'copy', type: 'transform', expression: 'secrets.CRM_TOKEN' }] } });
    expectError(leaking, 400, 'invalid_definition');
    expect(leaking.body.error.message).toContain('step "copy"');
    const dynamic = callingDefinition(sink.url);
    dynamic.steps[0].request.body = '$secret(input.name)';
    const refused = await t.http().post('/v1/workflows').set(t.auth).send({ name: 'w', definition: dynamic });
    expectError(refused, 400, 'invalid_definition');
    expect(refused.body.error.message).toContain('$secret("NAME")');
  });

  it('shows which workflows use a secret, refuses to delete it while they do, and refuses it at PATCH', async () => {
    const workflow = await createWorkflow(t, callingDefinition(sink.url));
    const got = await t.http().get('/v1/secrets/CRM_TOKEN').set(t.auth);
    expect(got.body.data.usedBy).toEqual([{ id: workflow.id, name: 'test workflow' }]);
    const listed = await t.http().get('/v1/secrets?limit=100').set(t.auth);
    const byName = new Map(listed.body.data.map((s: { name: string; usedBy: unknown }) => [s.name, s.usedBy]));
    expect(byName.get('CRM_TOKEN')).toEqual([{ id: workflow.id, name: 'test workflow' }]);
    expect(byName.get('API_TOKEN')).toEqual([]);

    const refused = await t.http().delete('/v1/secrets/CRM_TOKEN').set(t.auth);
    expectError(refused, 409, 'secret_in_use');
    expect(refused.body.error.message).toContain(workflow.id);

    const patched = await t
      .http()
      .patch(`/v1/workflows/${workflow.id}`)
      .set(t.auth)
      .send({ definition: { steps: [{ id: 'x', type: 'transform', expression: '1' }] } });
    expect(patched.status).toBe(200);
    expect((await t.http().get('/v1/secrets/CRM_TOKEN').set(t.auth)).body.data.usedBy).toEqual([]);
    expect((await t.http().delete('/v1/secrets/CRM_TOKEN').set(t.auth)).status).toBe(204);
    expectError(await t.http().get('/v1/secrets/CRM_TOKEN').set(t.auth), 404, 'secret_not_found');

    // Version 1 used it: restoring it now is refused, and so is a PATCH back to it.
    const restored = await t
      .http()
      .post(`/v1/workflows/${workflow.id}/versions/restore`)
      .set(t.auth)
      .send({ version: 1 });
    expectError(restored, 400, 'invalid_definition');
    expect(restored.body.error.message).toContain('"CRM_TOKEN"');
    const back = await t
      .http()
      .patch(`/v1/workflows/${workflow.id}`)
      .set(t.auth)
      .send({ definition: callingDefinition(sink.url) });
    expectError(back, 400, 'invalid_definition');
  });
});

/**
 * The built hookrun as an API process and two worker processes (one run at a time each) at LOG_LEVEL=debug: a secret
 * sent by http steps to a receiver that echoes it back, rotated while runs on both workers wait, then searched for
 * in every table, every process's log and the test's Redis keys.
 */
describe('step secrets in runs', () => {
  const sink = new HttpSink();
  const queuePrefix = testQueuePrefix();
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });
  const auth = { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' };
  let api: HookrunProcess;
  let workers: HookrunProcess[] = [];
  const first = planted('first');
  const second = planted('second');
  const host = `${planted('host')}.invalid`;

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked field by field
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: auth,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  const runOf = async (workflowId: string, input: object): Promise<RunBody> => {
    const started = await call('POST', `/v1/workflows/${workflowId}/runs`, { input });
    expect(started.status).toBe(202);
    const id = started.body.data.id as string;
    let run: RunBody | undefined;
    await waitUntil(
      async () => {
        run = (await call('GET', `/v1/workflow-runs/${id}`)).body.data as RunBody;
        return ['completed', 'failed', 'cancelled'].includes(run.status);
      },
      15_000,
      `run ${id} to end`,
    );
    return run as RunBody;
  };

  beforeAll(async () => {
    await sink.start();
    // The receiver answers with everything it was sent: headers, URL and body.
    sink.on('/echo', (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo-auth': String(req.headers.authorization) });
      res.end(JSON.stringify({ headers: req.headers, url: req.url, body: req.body }));
    });
    sink.on('/refuse', (req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`refused ${req.headers.authorization}`);
    });
    const setup = await startTestApp({ worker: false });
    await resetDatabase(setup.db);
    await setup.close();
    const env = {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'debug',
      HTTP_STEP_ALLOWED_HOSTS: `127.0.0.1:${new URL(sink.url).port}`,
    };
    api = await startHookrun(['api'], env);
    // One run at a time each: two runs held at once are one on each worker.
    const workerEnv = { ...env, WORKER_CONCURRENCY: '1' };
    workers = await Promise.all([startHookrun(['worker'], workerEnv), startHookrun(['worker'], workerEnv)]);
    await db.connect();
  });

  afterAll(async () => {
    sink.releaseAll();
    await Promise.all(workers.map((worker) => worker.stop('SIGKILL')));
    await api?.stop('SIGKILL');
    await db.end();
    await sink.stop();
    await deleteQueueKeys(TEST_REDIS_URL, queuePrefix);
  });

  it('is in the OpenAPI document, with examples and its error responses', async () => {
    const doc = (await (await fetch(`${api.baseUrl}/docs-json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties: Record<string, { example?: unknown }> }> };
    };
    const byName = doc.paths['/v1/secrets/{name}'];
    expect(Object.keys(byName.put.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401']));
    expect(Object.keys(byName.get.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    expect(Object.keys(byName.delete.responses)).toEqual(expect.arrayContaining(['204', '401', '404', '409']));
    expect(Object.keys(doc.paths['/v1/secrets'].get.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    const { properties } = doc.components.schemas.StepSecretResponse;
    expect(Object.keys(properties).sort()).toEqual(['createdAt', 'name', 'updatedAt', 'usedBy']);
    expect(properties.name.example).toBe('CRM_TOKEN');
    expect(doc.components.schemas.PutStepSecretDto.properties.value.example).toEqual(expect.any(String));
  });

  it('sends the value, stores what the receiver echoed redacted, and uses a new value at once after a PUT', async () => {
    expect((await call('PUT', '/v1/secrets/CRM_TOKEN', { value: first })).status).toBe(201);
    const created = await call('POST', '/v1/workflows', {
      name: 'echo',
      definition: callingDefinition(`${sink.url}/echo`),
    });
    expect(created.status).toBe(201);
    const workflowId = created.body.data.id as string;

    const run = await runOf(workflowId, { n: 1 });
    expect(run.status).toBe('completed');
    const [received] = sink.to('/echo');
    expect(received.headers.authorization).toBe(`Bearer ${first}`);
    expect(received.url).toBe(`/echo?key=${first}`);
    expect(JSON.parse(received.body)).toEqual({ token: first, n: 1 });
    const output = run.steps[0].output as { headers: Record<string, string>; body: Record<string, unknown> };
    expect(output.headers['x-echo-auth']).toBe('Bearer [redacted:CRM_TOKEN]');
    expect(output.body).toEqual({
      headers: expect.objectContaining({ authorization: 'Bearer [redacted:CRM_TOKEN]', 'x-plain': 'hello' }),
      url: '/echo?key=[redacted:CRM_TOKEN]',
      body: JSON.stringify({ token: '[redacted:CRM_TOKEN]', n: 1 }),
    });
    expect(JSON.stringify(run)).not.toContain(first);

    // Rotated through the API process: the next run sends the new value.
    expect((await call('PUT', '/v1/secrets/CRM_TOKEN', { value: second })).status).toBe(200);
    expect((await runOf(workflowId, { n: 2 })).status).toBe('completed');
    expect(sink.to('/echo')[1].headers.authorization).toBe(`Bearer ${second}`);
  });

  it('applies a rotation to the next step in every worker process, without a restart', async () => {
    const echo = (id: string) => ({
      id,
      type: 'http',
      request: { method: 'GET', url: `${sink.url}/echo-${id}`, headers: { 'x-key': '{{ secrets.ROTATED }}' } },
    });
    sink.hold('/hold');
    expect((await call('PUT', '/v1/secrets/ROTATED', { value: first })).status).toBe(201);
    const created = await call('POST', '/v1/workflows', {
      name: 'rotation',
      definition: {
        steps: [
          echo('before'),
          { id: 'wait', type: 'http', request: { method: 'GET', url: `${sink.url}/hold` } },
          echo('after'),
        ],
      },
    });
    expect(created.status).toBe(201);
    const ids: string[] = [];
    for (const n of [1, 2]) {
      const started = await call('POST', `/v1/workflows/${created.body.data.id as string}/runs`, { input: { n } });
      expect(started.status).toBe(202);
      ids.push(started.body.data.id as string);
    }
    // Both runs wait at once, so each worker holds one, having sent the old value.
    await waitUntil(async () => sink.to('/hold').length === 2, 15_000, 'both runs to wait at /hold');
    expect(sink.to('/echo-before').map((r) => r.headers['x-key'])).toEqual([first, first]);

    expect((await call('PUT', '/v1/secrets/ROTATED', { value: second })).status).toBe(200);
    sink.releaseAll();
    for (const id of ids) {
      await waitUntil(
        async () => (await call('GET', `/v1/workflow-runs/${id}`)).body.data.status === 'completed',
        15_000,
        `run ${id} to complete`,
      );
    }
    expect(sink.to('/echo-after').map((r) => r.headers['x-key'])).toEqual([second, second]);
  });

  it('redacts the value in step errors and the run error', async () => {
    const refusing = await call('POST', '/v1/workflows', {
      name: 'refuse',
      definition: callingDefinition(`${sink.url}/refuse`),
    });
    const refused = await runOf(refusing.body.data.id as string, { n: 3 });
    expect(refused.status).toBe('failed');
    expect(refused.error).toEqual(expect.objectContaining({ code: 'http_status', stepId: 'call' }));

    // The value in an expression's error, and in the host of a URL that does not resolve.
    expect((await call('PUT', '/v1/secrets/API_HOST', { value: host })).status).toBe(201);
    const failing = await call('POST', '/v1/workflows', {
      name: 'errors',
      definition: {
        steps: [
          {
            id: 'thrown',
            type: 'http',
            request: { method: 'POST', url: `${sink.url}/echo`, body: "$error('bad ' & $secret('CRM_TOKEN'))" },
          },
        ],
      },
    });
    const thrown = await runOf(failing.body.data.id as string, {});
    expect(thrown.status).toBe('failed');
    expect(thrown.error?.message).toContain('bad [redacted:CRM_TOKEN]');

    const unresolvable = await call('POST', '/v1/workflows', {
      name: 'host',
      definition: {
        steps: [{ id: 'lookup', type: 'http', request: { method: 'GET', url: 'http://{{ secrets.API_HOST }}/x' } }],
      },
    });
    const lookup = await runOf(unresolvable.body.data.id as string, {});
    expect(lookup.status).toBe('failed');
    expect(lookup.error?.message).toContain('[redacted:API_HOST]');
  });

  it('leaves the values in no table, no log line and no Redis key', async () => {
    const values = [first, second, host];

    const columns: { table_name: string; column_name: string }[] = (
      await db.query(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`,
      )
    ).rows;
    expect(columns.map((c) => `${c.table_name}.${c.column_name}`)).toEqual(
      expect.arrayContaining(['workflow_run_steps.output', 'workflow_runs.output', 'step_secrets.ciphertext']),
    );
    for (const { table_name: table, column_name: column } of columns) {
      for (const value of values) {
        const found = await db.query(
          `SELECT count(*)::int AS n FROM "${table}" WHERE strpos("${column}"::text, $1) > 0`,
          [value],
        );
        expect({ table, column, found: found.rows[0].n }).toEqual({ table, column, found: 0 });
      }
    }
    // The redacted outputs are there: the scan looked where the values would have been.
    const redacted = await db.query(
      `SELECT count(*)::int AS n FROM workflow_run_steps WHERE output::text LIKE '%[redacted:CRM_TOKEN]%'`,
    );
    expect(redacted.rows[0].n).toBeGreaterThan(0);

    const logs = api.output() + workers.map((worker) => worker.output()).join('');
    expect(logs).toContain('"level"');
    for (const value of values) expect(logs).not.toContain(value);

    const redis = new Redis(TEST_REDIS_URL);
    try {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 500);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      expect(keys.length).toBeGreaterThan(0);
      let dumped = '';
      for (const key of keys) {
        const type = await redis.type(key);
        if (type === 'string') dumped += await redis.get(key);
        else if (type === 'hash') dumped += JSON.stringify(await redis.hgetall(key));
        else if (type === 'list') dumped += JSON.stringify(await redis.lrange(key, 0, -1));
        else if (type === 'set') dumped += JSON.stringify(await redis.smembers(key));
        else if (type === 'zset') dumped += JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
        else if (type === 'stream') dumped += JSON.stringify(await redis.xrange(key, '-', '+'));
        else throw new Error(`key ${key} has type ${type}, which this test does not read`);
      }
      for (const value of values) expect(dumped).not.toContain(value);
    } finally {
      redis.disconnect();
    }
  });
});
