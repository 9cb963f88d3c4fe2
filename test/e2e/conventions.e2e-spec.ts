import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { expectError } from '../support/expect-error.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

describe('conventions: envelopes, request ids, authentication, API keys', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  it('answers unknown routes with 404 not_found in the error envelope', async () => {
    expectError(await t.http().get('/nothing/here'), 404, 'not_found');
    expectError(await t.http().delete('/v1/workflows').set(t.auth), 404, 'not_found');
  });

  it("echoes the client's x-request-id, or generates one", async () => {
    const echoed = await t.http().get('/health/live').set('x-request-id', 'req-abc.123');
    expect(echoed.headers['x-request-id']).toBe('req-abc.123');
    const generated = await t.http().get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await t.http().get('/nothing').set('x-request-id', 'bad id with spaces');
    expect(unsafe.headers['x-request-id']).not.toBe('bad id with spaces');
    expect(unsafe.body.error.requestId).toBe(unsafe.headers['x-request-id']);
  });

  it('answers 401 unauthorized without a key, with an unknown key or a malformed header', async () => {
    expectError(await t.http().get('/v1/workflows'), 401, 'unauthorized');
    expectError(await t.http().get('/v1/workflows').set('Authorization', 'Bearer hr_unknown'), 401, 'unauthorized');
    expectError(await t.http().get('/v1/workflows').set('Authorization', 'Basic abc'), 401, 'unauthorized');
  });

  it('answers validation errors with 400 validation_failed and details', async () => {
    const res = await t.http().post('/v1/workflows').set(t.auth).send({ name: '', definition: 'nope', extra: 1 });
    expectError(res, 400, 'validation_failed');
    const fields = (res.body.error.details as { field: string }[]).map((d) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'definition', 'extra']));
    expectError(await t.http().get('/v1/workflows?limit=0').set(t.auth), 400, 'validation_failed');
    expectError(await t.http().get('/v1/workflows?limit=101').set(t.auth), 400, 'validation_failed');
    expectError(await t.http().get('/v1/workflows?cursor=zzz').set(t.auth), 400, 'validation_failed');
  });

  it('answers a body that is not JSON with 400 invalid_json', async () => {
    const res = await t
      .http()
      .post('/v1/workflows')
      .set(t.auth)
      .set('content-type', 'application/json')
      .send('{"name":');
    expectError(res, 400, 'invalid_json');
  });

  it('creates an API key shown once, lists it without the key, and revokes it at once on delete', async () => {
    const created = await t.http().post('/v1/api-keys').set(t.auth).send({ name: 'ci' });
    expect(created.status).toBe(201);
    const { id, key, prefix } = created.body.data;
    expect(key).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(prefix)).toBe(true);

    const withNewKey = await t.http().get('/v1/workflows').set('Authorization', `Bearer ${key}`);
    expect(withNewKey.status).toBe(200);
    expect(withNewKey.body).toEqual({ data: [], nextCursor: null });

    const list = await t.http().get('/v1/api-keys').set(t.auth);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([expect.objectContaining({ id, name: 'ci', prefix })]);
    expect(JSON.stringify(list.body)).not.toContain(key);

    await t.http().delete(`/v1/api-keys/${id}`).set(t.auth).expect(204);
    expectError(await t.http().get('/v1/workflows').set('Authorization', `Bearer ${key}`), 401, 'unauthorized');
    expectError(await t.http().delete(`/v1/api-keys/${id}`).set(t.auth), 404, 'api_key_not_found');
  });

  it('pages lists newest first with nextCursor', async () => {
    for (const name of ['a', 'b', 'c']) await t.http().post('/v1/api-keys').set(t.auth).send({ name }).expect(201);
    const first = await t.http().get('/v1/api-keys?limit=2').set(t.auth);
    expect(first.body.data.map((k: { name: string }) => k.name)).toEqual(['c', 'b']);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.http().get(`/v1/api-keys?limit=2&cursor=${first.body.nextCursor}`).set(t.auth);
    expect(second.body.data.map((k: { name: string }) => k.name)).toEqual(['a']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('reports liveness and readiness without authentication', async () => {
    expect((await t.http().get('/health/live')).body).toEqual({ data: { status: 'ok', checks: {} } });
    expect((await t.http().get('/health/ready')).body).toEqual({
      data: { status: 'ok', checks: { database: 'ok', queue: 'ok' } },
    });
  });

  it('serves Swagger UI at /docs and the OpenAPI document at /docs-json with bearer auth on /v1', async () => {
    const ui = await t.http().get('/docs/');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const doc = (await t.http().get('/docs-json')).body;
    expect(doc.openapi).toMatch(/^3\./);
    // Relative first, so that "Try it out" works from whatever address served the docs; PUBLIC_BASE_URL after it.
    expect((doc.servers as { url: string }[]).map((server) => server.url)).toEqual(['/', 'http://hookrun.test']);
    expect(doc.components.securitySchemes.bearer).toEqual(expect.objectContaining({ type: 'http', scheme: 'bearer' }));
    const operations = Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>).flatMap(
      ([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })),
    );
    const expected = [
      'post /v1/api-keys',
      'get /v1/api-keys',
      'delete /v1/api-keys/{id}',
      'post /v1/workflows',
      'get /v1/workflows',
      'get /v1/workflows/{id}',
      'patch /v1/workflows/{id}',
      'delete /v1/workflows/{id}',
      'get /v1/workflows/{id}/versions',
      'post /v1/workflows/{id}/versions/restore',
      'post /v1/workflows/{id}/trigger/webhook',
      'get /v1/workflows/{id}/trigger/webhook',
      'patch /v1/workflows/{id}/trigger/webhook',
      'delete /v1/workflows/{id}/trigger/webhook',
      'post /v1/workflows/{id}/trigger/webhook-secret/rotate',
      'get /v1/workflows/{id}/trigger/webhook/deliveries',
      'post /v1/workflows/{id}/trigger/webhook/test-delivery',
      'post /webhooks/workflows/{slug}',
      'get /webhooks/workflows/{slug}',
      'post /v1/workflows/{id}/runs',
      'get /v1/workflows/{id}/runs',
      'get /v1/workflow-runs',
      'get /v1/workflow-runs/changes',
      'get /v1/workflow-runs/{id}',
      'get /v1/workflows/{id}/run-stats',
      'get /v1/workflow-run-stats',
      'post /v1/workflow-runs/{id}/cancel',
      'post /v1/workflow-runs/{id}/retry',
      'post /v1/workflow-runs/{id}/rerun',
      'post /v1/workflow-runs/bulk',
      'get /v1/workflow-runs/bulk/{id}',
      'put /v1/secrets/{name}',
      'get /v1/secrets',
      'get /v1/secrets/{name}',
      'delete /v1/secrets/{name}',
      'get /v1/workflows/{id}/notify-endpoints',
      'post /v1/workflows/{id}/notify-endpoints/{endpointId}/rotate-secret',
      'get /v1/workflow-runs/{id}/notifications',
      'get /health/live',
      'get /health/ready',
      'get /metrics',
    ];
    expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual([...expected].sort());
    for (const { path, op } of operations) {
      if (path.startsWith('/v1/')) expect(op.security).toEqual([{ bearer: [] }]);
      else expect(op.security).toBeUndefined();
    }
    const webhook = doc.paths['/webhooks/workflows/{slug}'].post;
    expect(Object.keys(webhook.responses).sort()).toEqual([
      '200',
      '202',
      '400',
      '401',
      '404',
      '413',
      '415',
      '429',
      '500',
      '502',
      '503',
    ]);
    // The one 500 a webhook documents is the trigger's own filter failing: crashes are not part of the contract.
    expect(Object.keys(webhook.responses['500'].content['application/json'].examples)).toEqual(['filter_failed']);
    // The run (wait), its output (reply=output), filtered, Slack's handshake.
    expect(webhook.responses['200'].content['application/json'].schema.oneOf).toHaveLength(4);
    expect(Object.keys(doc.paths['/webhooks/workflows/{slug}'].get.responses)).toEqual(['405']);
  });
});
