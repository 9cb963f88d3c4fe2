import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';

import { newId } from '../../src/common/ids.util.js';
import { generateSlug } from '../../src/modules/webhooks/webhook-slug.generator.js';
import { WebhookDeliveriesRecorder } from '../../src/modules/webhooks/deliveries/webhook-deliveries.recorder.js';
import { NUMBER_OUT_OF_RANGE } from '../../src/modules/webhooks/webhook-json-limits.util.js';
import { WebhookTriggersRepository } from '../../src/modules/webhooks/webhook-triggers.repository.js';
import { expectError } from '../support/expect-error.js';
import { createWebhookWorkflow, type CreatedTrigger } from '../support/factories.js';
import { signedHeaders, signedHeadersForBytes } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun } from '../support/wait-for.js';

/**
 * Issue 12, "Bad input": each row's HTTP answer and what it left in the database. Rejected webhooks
 * must start no run; those refused before a trigger is known (odd slugs, GET/HEAD) must not even be
 * looked up or logged.
 */

/** Echoes its input through JSONata and $string (JSON.stringify): what a worker does with any input. */
const ECHO_DEFINITION = {
  steps: [
    { id: 'echo', type: 'transform', expression: 'input' },
    { id: 'text', type: 'transform', expression: '$length($string(input))' },
  ],
  output: '{ "echo": steps.echo.output, "length": steps.text.output }',
};

const FORM = 'application/x-www-form-urlencoded';
/** superagent would JSON-encode a Buffer sent as application/json: these bytes go as they are. */
const asSent = (body: unknown) => body as string;
const nested = (levels: number, inner = '1') => `${'['.repeat(levels)}${inner}${']'.repeat(levels)}`;
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels - 1)}{"a":"[{\\"}"}${'}'.repeat(levels - 1)}`;

describe('hostile input', () => {
  let t: TestApp;
  let workflowId: string;
  let trigger: CreatedTrigger;
  let lookups: jest.SpiedFunction<WebhookTriggersRepository['findForIngest']>;

  beforeAll(async () => {
    t = await startTestApp();
    await resetDatabase(t.db);
    const workflow = await createWebhookWorkflow(t, ECHO_DEFINITION);
    workflowId = workflow.id;
    trigger = workflow.trigger;
    // Watches (and calls through to) the one query that looks a trigger up by slug.
    lookups = jest.spyOn(t.app.get(WebhookTriggersRepository), 'findForIngest');
  });

  afterEach(() => {
    lookups.mockClear();
  });

  afterAll(async () => {
    lookups.mockRestore();
    await t.close();
  });

  const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
    t
      .http()
      .post(path)
      .set('content-type', contentType)
      .set(typeof body === 'string' ? signedHeaders(trigger.secret, body) : signedHeadersForBytes(trigger.secret, body))
      .serialize(asSent)
      .send(body);

  const runCount = async (): Promise<number> => {
    const [{ count }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs WHERE workflow_id = $1', [
      workflowId,
    ]);
    return count;
  };

  /** The delivery log's rows for one answer (by its request id), once everything buffered is written. */
  const deliveriesOf = async (
    requestId: string,
  ): Promise<{ outcome: string; status_code: number; error_code: string }[]> => {
    await t.app.get(WebhookDeliveriesRecorder).flush();
    return t.db.query('SELECT outcome, status_code, error_code FROM webhook_deliveries WHERE request_id = $1', [
      requestId,
    ]);
  };

  const allDeliveries = async (): Promise<number> => {
    await t.app.get(WebhookDeliveriesRecorder).flush();
    const [{ count }] = await t.db.query('SELECT count(*)::int AS count FROM webhook_deliveries');
    return count;
  };

  /** A refused delivery to the real trigger: the answer, no run, and a `rejected` entry with its code. */
  const expectRefused = async (res: Awaited<ReturnType<typeof post>>, runsBefore: number, code: string) => {
    expectError(res, 400, code);
    expect(await runCount()).toBe(runsBefore);
    expect(await deliveriesOf(res.headers['x-request-id'])).toEqual([
      { outcome: 'rejected', status_code: 400, error_code: code },
    ]);
  };

  describe('slugs that generateSlug could not have made (row 8)', () => {
    it('answers 404 trigger_not_found without a lookup, a run or a log entry', async () => {
      const runsBefore = await runCount();
      const deliveriesBefore = await allDeliveries();
      const odd = [
        '%00',
        'abc%00def',
        `${trigger.slug.slice(0, 23)}%00`,
        `${trigger.slug}%00`,
        `${trigger.slug}x`,
        trigger.slug.slice(1),
        `${trigger.slug.slice(0, 23)}.`,
        `${trigger.slug.slice(0, 22)}%2F`,
        '%FF%FE', // express cannot decode it
        'no-such-slug',
        'x'.repeat(5000),
      ];
      for (const slug of odd) {
        const res = await post(`/webhooks/workflows/${slug}`, '{"n":1}');
        expect({ slug, status: res.status, code: res.body.error?.code }).toEqual({
          slug,
          status: 404,
          code: 'trigger_not_found',
        });
        expectError(res, 404, 'trigger_not_found');
      }
      expect(lookups).not.toHaveBeenCalled();
      expect(await runCount()).toBe(runsBefore);
      expect(await allDeliveries()).toBe(deliveriesBefore);
    });

    it('still looks up a slug of the right shape (so that the check above can fail)', async () => {
      const slug = generateSlug();
      expectError(await post(`/webhooks/workflows/${slug}`, '{"n":1}'), 404, 'trigger_not_found');
      expect(lookups).toHaveBeenCalledWith(slug, expect.any(Date));
    });
  });

  describe('nesting and numbers (row 9)', () => {
    it('refuses bodies nested deeper than 256 levels with 400 invalid_json, before any run', async () => {
      const runsBefore = await runCount();
      for (const body of [nested(10_000), nested(257), nestedObjects(257), `{"a": "]]]]", "b": ${nested(257)}}`]) {
        const res = await post(trigger.path, body);
        await expectRefused(res, runsBefore, 'invalid_json');
        expect(res.body.error.message).toBe('Body is nested deeper than 256 levels');
      }
    });

    it('refuses numbers that JavaScript reads as Infinity or PostgreSQL writes out at many times their size', async () => {
      const runsBefore = await runCount();
      for (const body of ['{"n": 1e131071}', '[1e-16000]', '[1.5E+309]', `[1${'0'.repeat(400)}]`]) {
        const res = await post(trigger.path, body);
        await expectRefused(res, runsBefore, 'invalid_json');
        expect(res.body.error.message).toBe(NUMBER_OUT_OF_RANGE);
      }
    });

    it('runs to completion every body it accepts at the limits: 256 levels, brackets in strings, 1e308', async () => {
      const accepted = [
        nested(256),
        nestedObjects(256),
        `{"s": "${'['.repeat(5000)}\\"${'{'.repeat(5000)}", "deep": ${nested(255)}}`,
        `[${Array.from({ length: 200 }, () => '1.7976931348623157e308').join(',')}, -1e-400, 5e-324, 12.5]`,
      ];
      for (const body of accepted) {
        const res = await post(trigger.path, body);
        expect(res.status).toBe(202);
        const run = await waitForRun(t, res.body.data.runId);
        expect({ status: run.status, error: run.error }).toEqual({ status: 'completed', error: null });
        const [row] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [run.id]);
        expect(JSON.stringify(row.input)).toBe(JSON.stringify(JSON.parse(body)));
        expect(JSON.stringify((run.output as { echo: unknown }).echo)).toBe(JSON.stringify(JSON.parse(body)));
      }
    });
  });

  describe('bytes that are not UTF-8 (row 10)', () => {
    it('refuses a JSON body with 400 invalid_json rather than storing U+FFFD', async () => {
      const runsBefore = await runCount();
      for (const bytes of [[0xff], [0xc3], [0xed, 0xa0, 0x80]]) {
        const body = Buffer.concat([Buffer.from('{"name": "Zo'), Buffer.from(bytes), Buffer.from('"}')]);
        const res = await post(trigger.path, body);
        await expectRefused(res, runsBefore, 'invalid_json');
        expect(res.body.error.message).toBe('Body is not valid UTF-8');
      }
    });

    it('refuses a form body with 400 invalid_body, raw or %-encoded', async () => {
      const runsBefore = await runCount();
      for (const body of [Buffer.from([0x6e, 0x3d, 0xff]), Buffer.from('name=Zo%EB'), Buffer.from('n=%C3')]) {
        const res = await post(trigger.path, body, FORM);
        await expectRefused(res, runsBefore, 'invalid_body');
        expect(res.body.error.message).toMatch(/not valid UTF-8/);
      }
    });

    it('stores valid UTF-8 exactly as sent', async () => {
      const body = '{"name": "Zoë 🎉 漢字"}';
      const res = await post(trigger.path, Buffer.from(body));
      expect(res.status).toBe(202);
      const [row] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [res.body.data.runId]);
      expect(row.input).toEqual({ name: 'Zoë 🎉 漢字' });
      const form = await post(trigger.path, 'name=Zo%C3%AB+%F0%9F%8E%89', FORM);
      expect(form.status).toBe(202);
      const [formRow] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [form.body.data.runId]);
      expect(formRow.input).toEqual({ name: 'Zoë 🎉' });
    });
  });

  describe('JSON sent with a form content type (row 11)', () => {
    it('refuses a webhook form body that is JSON with 400 invalid_body, naming application/json', async () => {
      const runsBefore = await runCount();
      for (const body of ['{"a":1}', '{"url":"https://example.com/?x=1&y=2"}', '%7B%22a%22%3A1%7D', '[1,2]']) {
        const res = await post(trigger.path, body, FORM);
        await expectRefused(res, runsBefore, 'invalid_body');
        expect(res.body.error.message).toContain('Content-Type: application/json');
      }
    });

    it('still accepts a real form', async () => {
      const res = await post(trigger.path, 'a=1&json=%7B%22b%22%3A2%7D&flag', FORM);
      expect(res.status).toBe(202);
      const [row] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [res.body.data.runId]);
      expect(row.input).toEqual({ a: '1', json: '{"b":2}', flag: '' });
    });

    it('answers /v1 bodies without a JSON content type with 415 unsupported_media_type, creating nothing', async () => {
      const count = async () => {
        const rows: { count: number }[] = await t.db.query(
          "SELECT count(*)::int AS count FROM workflows WHERE name = 'sent as a form'",
        );
        return rows[0].count;
      };
      const body = JSON.stringify({ name: 'sent as a form', definition: ECHO_DEFINITION });
      const send = (contentType?: string) => {
        const req = t.http().post('/v1/workflows').set(t.auth);
        return contentType === undefined
          ? req.send(Buffer.from(body))
          : req.set('content-type', contentType).send(body);
      };
      for (const [contentType, named] of [
        [FORM, FORM],
        ['text/plain; charset=utf-8', 'text/plain'],
        [undefined, undefined],
      ] as const) {
        const res = await send(contentType);
        expectError(res, 415, 'unsupported_media_type');
        expect(res.body.error.message).toContain('Content-Type: application/json');
        if (named) expect(res.body.error.message).toContain(named);
      }
      expect(await count()).toBe(0);
      expect((await send('application/json')).status).toBe(201);
      expect(await count()).toBe(1);
    });

    it('still takes /v1 requests without a body, whatever their headers', async () => {
      const runId = newId();
      const bare = await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth);
      expectError(bare, 404, 'run_not_found');
      const empty = await t.http().post(`/v1/workflow-runs/${runId}/cancel`).set(t.auth).set('content-length', '0');
      expectError(empty, 404, 'run_not_found');
    });

    it('answers a /v1 JSON body that is not UTF-8 with 400 invalid_json', async () => {
      const body = Buffer.concat([Buffer.from('{"name": "bad '), Buffer.from([0xff]), Buffer.from('"}')]);
      const res = await t
        .http()
        .post('/v1/api-keys')
        .set(t.auth)
        .set('content-type', 'application/json')
        .serialize(asSent)
        .send(body);
      expectError(res, 400, 'invalid_json');
      expect(res.body.error.message).toBe('Body is not valid UTF-8');
      const [{ count }] = await t.db.query("SELECT count(*)::int AS count FROM api_keys WHERE name LIKE 'bad %'");
      expect(count).toBe(0);
    });
  });

  describe('GET and HEAD on a webhook URL (row 12)', () => {
    it('answers 405 method_not_allowed with Allow: POST, without a lookup or a log entry', async () => {
      const deliveriesBefore = await allDeliveries();
      for (const path of [trigger.path, `/webhooks/workflows/${generateSlug()}`, '/webhooks/workflows/%00']) {
        const get = await t.http().get(path);
        expectError(get, 405, 'method_not_allowed');
        expect(get.headers.allow).toBe('POST');
        expect(get.body.error.message).toMatch(/POST/);
        const head = await t.http().head(path);
        expect(head.status).toBe(405);
        expect(head.headers.allow).toBe('POST');
        expect(head.headers['x-request-id']).toEqual(expect.any(String));
      }
      expect(lookups).not.toHaveBeenCalled();
      expect(await allDeliveries()).toBe(deliveriesBefore);
    });

    it('is in the OpenAPI document with the error schema and the Allow header', async () => {
      const doc = (await t.http().get('/docs-json')).body;
      const refused = doc.paths['/webhooks/workflows/{slug}'].get.responses['405'];
      expect(refused.headers.Allow).toEqual(
        expect.objectContaining({ schema: expect.objectContaining({ type: 'string' }) }),
      );
      expect(refused.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ErrorResponseDto' });
      expect(refused.content['application/json'].examples.method_not_allowed.value.error).toEqual(
        expect.objectContaining({ status: 405, code: 'method_not_allowed' }),
      );
    });
  });
});
