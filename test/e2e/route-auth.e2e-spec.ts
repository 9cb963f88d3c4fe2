import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';

import { newId } from '../../src/common/ids.util.js';
import { generateSlug } from '../../src/modules/webhooks/webhook-slug.generator.js';
import { expectError } from '../support/expect-error.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Deny by default, checked route by route: every operation of the OpenAPI document under `/v1` answers
 * 401 without a key, with a wrong key and with a revoked one, and every other route is one this file
 * names as public. A route that forgets its guard, or one added without a decision, fails here.
 */

/** The only routes outside `/v1` and the docs: each is public on purpose. */
const PUBLIC_ROUTES = [
  'post /webhooks/workflows/{slug}', // signed by the sender instead
  'get /webhooks/workflows/{slug}', // 405: webhooks are POSTed
  'get /health/live', // for orchestrators, which hold no key
  'get /health/ready',
  'get /metrics', // for scrapers; METRICS_TOKEN protects it when set (test/e2e/metrics.e2e-spec.ts)
];

/** What a public route answers without a key: anything but a request for one. */
const PUBLIC_ANSWERS: Record<string, [number, string | null]> = {
  'post /webhooks/workflows/{slug}': [404, 'trigger_not_found'],
  'get /webhooks/workflows/{slug}': [405, 'method_not_allowed'],
  'get /health/live': [200, null],
  'get /health/ready': [200, null],
  'get /metrics': [200, null],
};

/** Path parameters filled so that the route matches; the guard runs before any pipe reads them. */
const PARAMETER_VALUES: Record<string, () => string> = {
  id: () => newId(), // a UUIDv7 that names nothing
  slug: () => generateSlug(),
  name: () => 'ROUTE_AUTH_CHECK', // a valid secret name
  endpointId: () => newId(),
};

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof HTTP_METHODS)[number];

interface Operation {
  method: Method;
  path: string;
}

const key = ({ method, path }: Operation) => `${method} ${path}`;

function fill(path: string): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = PARAMETER_VALUES[name];
    if (!value) throw new Error(`No value for path parameter {${name}} in ${path}: add one to PARAMETER_VALUES`);
    return encodeURIComponent(value());
  });
}

describe('route authentication: every /v1 route of the OpenAPI document needs a valid key', () => {
  let t: TestApp;
  let operations: Operation[];

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
    const doc = (await t.http().get('/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method] !== undefined).map((method) => ({ method, path })),
    );
  });

  afterAll(async () => {
    await t.close();
  });

  const send = (op: Operation, headers: Record<string, string>) => t.http()[op.method](fill(op.path)).set(headers);

  it('answers 401 unauthorized on every /v1 route without a key, with a wrong key and with a revoked key', async () => {
    const created = await t.http().post('/v1/api-keys').set(t.auth).send({ name: 'route-auth' });
    expect(created.status).toBe(201);
    const revoked = { Authorization: `Bearer ${created.body.data.key as string}` };
    expect((await t.http().get('/v1/workflows').set(revoked)).status).toBe(200);
    await t
      .http()
      .delete(`/v1/api-keys/${created.body.data.id as string}`)
      .set(t.auth)
      .expect(204);

    const credentials: Record<string, Record<string, string>> = {
      'no key': {},
      'a wrong key': { Authorization: `Bearer hr_${randomBytes(32).toString('base64url')}` },
      'a malformed header': { Authorization: 'Basic cm91dGU6YXV0aA==' },
      'a revoked key': revoked,
    };
    const walked = new Set<string>();
    for (const op of operations.filter((o) => o.path.startsWith('/v1/'))) {
      for (const [what, headers] of Object.entries(credentials)) {
        const res = await send(op, headers);
        expect({ route: key(op), with: what, status: res.status, code: res.body?.error?.code }).toEqual({
          route: key(op),
          with: what,
          status: 401,
          code: 'unauthorized',
        });
        expectError(res, 401, 'unauthorized');
      }
      // With a valid key the same request gets past the guard, to a route that exists (no `Cannot ...`).
      const allowed = await send(op, t.auth);
      const code: unknown = allowed.body?.error?.code;
      expect({ route: key(op), pastTheGuard: allowed.status !== 401, routed: code !== 'not_found' }).toEqual({
        route: key(op),
        pastTheGuard: true,
        routed: true,
      });
      walked.add(key(op));
    }

    // The walk went everywhere: a filter or an early exit above would leave routes out.
    const v1Operations = operations.filter((o) => o.path.startsWith('/v1/')).map(key);
    expect([...walked].sort()).toEqual([...v1Operations].sort());
    // 23 when written; fewer means routes went missing from the document itself.
    expect(walked.size).toBeGreaterThanOrEqual(23);
    const v1Paths = new Set(operations.filter((o) => o.path.startsWith('/v1/')).map((o) => o.path));
    expect(new Set([...walked].map((w) => w.split(' ')[1]))).toEqual(v1Paths);
  });

  it('leaves public only the routes listed here, and they answer without a key', async () => {
    const others = operations.filter((o) => !o.path.startsWith('/v1/') && !o.path.startsWith('/docs')).map(key);
    expect(others.sort()).toEqual([...PUBLIC_ROUTES].sort());
    for (const route of PUBLIC_ROUTES) {
      const [method, path] = route.split(' ') as [Method, string];
      const res = await send({ method, path }, {});
      const [status, code] = PUBLIC_ANSWERS[route];
      expect({ route, status: res.status, code: res.body?.error?.code ?? null }).toEqual({ route, status, code });
    }
  });

  it('serves no route that the OpenAPI document leaves out, except the docs themselves', () => {
    const documented = new Set(operations.map(key));
    const stack = (
      t.app.getHttpAdapter().getInstance() as {
        router: { stack: { route?: { path: unknown; methods: Record<string, boolean> } }[] };
      }
    ).router.stack;
    const served = stack.flatMap(({ route }) => {
      if (!route) return [];
      if (typeof route.path !== 'string') throw new Error(`A route that is not a plain path: ${String(route.path)}`);
      const path = route.path.replace(/:(\w+)/g, '{$1}');
      return Object.keys(route.methods).map((method) => `${method} ${path}`);
    });
    expect(served.length).toBeGreaterThanOrEqual(documented.size);
    const undocumented = served.filter((route) => !documented.has(route) && !route.split(' ')[1].startsWith('/docs'));
    expect(undocumented).toEqual([]);
  });
});
