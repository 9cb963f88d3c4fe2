import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';

import { expectError } from '../support/expect-error.js';
import { createWorkflow } from '../support/factories.js';
import {
  bodyHmac,
  ed25519Signer,
  githubSignature,
  nowSeconds,
  shopifySignature,
  slackSignature,
  standardSignature,
  stripeSignature,
} from '../support/provider-signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

/**
 * Every trigger scheme end to end: a trigger made through the API with the provider's secret, requests
 * signed the way each provider documents (test/support/provider-signing.ts, node:crypto only), and for
 * each scheme its rejections, its secret rotation with a grace period and its deduplication id.
 */

interface Kit {
  scheme: string;
  /** A secret as the provider would give it, or undefined when hookrun generates it. */
  providerSecret: () => string | undefined;
  options?: object;
  contentType: string;
  /** A body for delivery `id`; schemes whose id travels in the body put it there. */
  body: (id: string, n: number) => string;
  /** The headers a sender would send for this body and delivery id. */
  sign: (secret: string, body: string, id: string) => Record<string, string>;
  /** The id hookrun deduplicates on, as stored in the run's trigger.webhookId. */
  webhookId: (id: string, body: string) => string;
  /** Whether the signature covers the body (the token scheme's does not). */
  signsBody: boolean;
}

const json = (id: string, n: number) => JSON.stringify({ delivery: id, n });

const KITS: Kit[] = [
  {
    scheme: 'standard-webhooks',
    providerSecret: () => undefined,
    contentType: 'application/json',
    body: json,
    sign: (secret, body, id) => {
      const timestamp = nowSeconds();
      return {
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': standardSignature(secret, id, timestamp, body),
      };
    },
    webhookId: (id) => id,
    signsBody: true,
  },
  {
    scheme: 'github',
    providerSecret: () => `gh secret ${randomBytes(12).toString('hex')}`,
    contentType: 'application/json',
    body: json,
    sign: (secret, body, id) => ({
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-hub-signature-256': githubSignature(secret, body),
    }),
    webhookId: (id) => id,
    signsBody: true,
  },
  {
    scheme: 'stripe',
    providerSecret: () => `whsec_${randomBytes(24).toString('hex')}`,
    contentType: 'application/json; charset=utf-8',
    body: (id, n) => JSON.stringify({ id: `evt_${id}`, object: 'event', type: 'invoice.paid', data: { n } }),
    sign: (secret, body) => ({ 'stripe-signature': stripeSignature(secret, body, nowSeconds()) }),
    webhookId: (id) => `evt_${id}`,
    signsBody: true,
  },
  {
    scheme: 'slack',
    providerSecret: () => randomBytes(16).toString('hex'),
    contentType: 'application/json',
    body: (id, n) => JSON.stringify({ type: 'event_callback', event_id: `Ev${id}`, event: { type: 'message', n } }),
    sign: (secret, body) => {
      const timestamp = nowSeconds();
      return {
        'x-slack-request-timestamp': String(timestamp),
        'x-slack-signature': slackSignature(secret, timestamp, body),
      };
    },
    webhookId: (id) => `Ev${id}`,
    signsBody: true,
  },
  {
    scheme: 'shopify',
    providerSecret: () => `shpss_${randomBytes(16).toString('hex')}`,
    contentType: 'application/json',
    body: json,
    sign: (secret, body, id) => ({
      'x-shopify-topic': 'orders/create',
      'x-shopify-webhook-id': id,
      'x-shopify-hmac-sha256': shopifySignature(secret, body),
    }),
    webhookId: (id) => id,
    signsBody: true,
  },
  {
    scheme: 'hmac-sha256',
    providerSecret: () => undefined,
    options: {
      signatureHeader: 'X-Acme-Signature',
      encoding: 'base64',
      prefix: 'sha256=',
      idHeader: 'X-Acme-Delivery',
    },
    contentType: 'application/json',
    body: json,
    sign: (secret, body, id) => ({
      'x-acme-signature': `sha256=${bodyHmac(secret, body, 'base64')}`,
      'x-acme-delivery': id,
    }),
    webhookId: (id) => id,
    signsBody: true,
  },
  {
    scheme: 'token',
    providerSecret: () => undefined,
    options: { tokenHeader: 'Authorization', prefix: 'Bearer ', idHeader: 'X-Event-Id' },
    contentType: 'application/json',
    body: json,
    sign: (secret, _body, id) => ({ authorization: `Bearer ${secret}`, 'x-event-id': id }),
    webhookId: (id) => id,
    signsBody: false,
  },
];

describe('trigger schemes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  const createTrigger = async (body: object) => {
    const workflow = await createWorkflow(t);
    const res = await t.http().post(`/v1/workflows/${workflow.id}/trigger/webhook`).set(t.auth).send(body);
    expect(res.status).toBe(201);
    const data = res.body.data as { slug: string; secret: string; scheme: string; options: object };
    return { workflowId: workflow.id, path: `/webhooks/workflows/${data.slug}`, ...data };
  };

  const post = (path: string, body: string, headers: Record<string, string>, contentType = 'application/json') =>
    t.http().post(path).set('content-type', contentType).set(headers).send(body);

  const rotate = (workflowId: string, body: object) =>
    t.http().post(`/v1/workflows/${workflowId}/trigger/webhook-secret/rotate`).set(t.auth).send(body);

  const runsWithWebhookId = async (webhookId: string): Promise<number> => {
    const [{ count }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs WHERE webhook_id = $1', [
      webhookId,
    ]);
    return count as number;
  };

  const uniqueId = () => randomUUID().replace(/-/g, '');

  describe.each(KITS.map((kit) => [kit.scheme, kit] as const))('%s', (_name, kit) => {
    let trigger: Awaited<ReturnType<typeof createTrigger>>;
    let secret: string;

    beforeAll(async () => {
      const given = kit.providerSecret();
      trigger = await createTrigger({
        scheme: kit.scheme,
        ...(given === undefined ? {} : { secret: given }),
        ...(kit.options ? { options: kit.options } : {}),
      });
      secret = trigger.secret;
      if (given !== undefined) expect(secret).toBe(given);
      else expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    });

    const send = (key: string, id = uniqueId(), n = 1) => {
      const body = kit.body(id, n);
      return post(trigger.path, body, kit.sign(key, body, id), kit.contentType);
    };

    it('shows its scheme and options, never its secret', async () => {
      const res = await t.http().get(`/v1/workflows/${trigger.workflowId}/trigger/webhook`).set(t.auth);
      expect(res.status).toBe(200);
      expect(res.body.data.scheme).toBe(kit.scheme);
      expect(res.body.data.options).toEqual(trigger.options);
      expect(JSON.stringify(res.body)).not.toContain(secret);
      const workflow = await t.http().get(`/v1/workflows/${trigger.workflowId}`).set(t.auth);
      expect(workflow.body.data.webhookTrigger).toEqual(expect.objectContaining({ scheme: kit.scheme }));
    });

    it("accepts a request signed with the provider's algorithm and stores the body as the run's input", async () => {
      const id = uniqueId();
      const body = kit.body(id, 7);
      const res = await post(trigger.path, body, kit.sign(secret, body, id), kit.contentType);
      expect(res.status).toBe(202);
      expect(res.body.data).toEqual({ runId: expect.any(String), workflowId: trigger.workflowId, status: 'queued' });
      const [row] = await t.db.query('SELECT input, webhook_id FROM workflow_runs WHERE id = $1', [
        res.body.data.runId,
      ]);
      expect(row).toEqual({ input: JSON.parse(body), webhook_id: kit.webhookId(id, body) });
    });

    it('deduplicates on its delivery id: a retry answers the first run with idempotent-replayed', async () => {
      const id = uniqueId();
      const first = await send(secret, id);
      // Re-signed, as providers do on a retry (a new timestamp where the scheme has one).
      const retry = await send(secret, id);
      expect(first.status).toBe(202);
      expect(retry.status).toBe(202);
      expect(retry.body.data.runId).toBe(first.body.data.runId);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await runsWithWebhookId(kit.webhookId(id, kit.body(id, 1)))).toBe(1);
      const other = await send(secret);
      expect(other.status).toBe(202);
      expect(other.body.data.runId).not.toBe(first.body.data.runId);
    });

    it('refuses a wrong secret with 401 invalid_signature and starts no run', async () => {
      const id = uniqueId();
      const wrong = kit.providerSecret() ?? `whsec_${randomBytes(32).toString('base64')}`;
      expectError(await send(wrong, id), 401, 'invalid_signature');
      expect(await runsWithWebhookId(kit.webhookId(id, kit.body(id, 1)))).toBe(0);
    });

    it('refuses a body changed after signing with 401 invalid_signature', async () => {
      if (!kit.signsBody) return;
      const id = uniqueId();
      const body = kit.body(id, 1);
      const headers = kit.sign(secret, body, id);
      expectError(await post(trigger.path, kit.body(id, 2), headers, kit.contentType), 401, 'invalid_signature');
      // The same JSON spelled differently is other bytes: signatures cover bytes, not values.
      const respelled = JSON.stringify(JSON.parse(body), null, 1);
      expectError(await post(trigger.path, respelled, headers, kit.contentType), 401, 'invalid_signature');
    });

    it('refuses a request without its signature headers with 401 missing_signature', async () => {
      const body = kit.body(uniqueId(), 1);
      expectError(await post(trigger.path, body, {}, kit.contentType), 401, 'missing_signature');
    });

    it('keeps the old secret verifying through a rotation grace period, and only the newest after a rotation with 0', async () => {
      const first = secret;
      const rotated = await rotate(trigger.workflowId, {
        gracePeriodSeconds: 3600,
        ...(kit.providerSecret() === undefined ? {} : { secret: kit.providerSecret() }),
      });
      expect(rotated.status).toBe(200);
      const second = rotated.body.data.secret as string;
      expect(second).not.toBe(first);
      expect((await send(first)).status).toBe(202);
      expect((await send(second)).status).toBe(202);

      const revoked = await rotate(trigger.workflowId, {
        gracePeriodSeconds: 0,
        ...(kit.providerSecret() === undefined ? {} : { secret: kit.providerSecret() }),
      });
      expect(revoked.status).toBe(200);
      const third = revoked.body.data.secret as string;
      expectError(await send(first), 401, 'invalid_signature');
      expectError(await send(second), 401, 'invalid_signature');
      expect((await send(third)).status).toBe(202);
      secret = third;
    });
  });

  describe('standard-webhooks specifics', () => {
    it('verifies v1a ed25519 signatures against a whpk_ public key, and moves to a whsec_ secret by rotation', async () => {
      const signer = ed25519Signer();
      const trigger = await createTrigger({ secret: signer.publicKey });
      expect(trigger.scheme).toBe('standard-webhooks');
      const body = JSON.stringify({ signed: 'ed25519' });
      const headers = (id: string, signature: string, timestamp = nowSeconds()) => ({
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signature,
      });
      const ts = nowSeconds();
      expect((await post(trigger.path, body, headers('msg_a', signer.sign('msg_a', ts, body), ts))).status).toBe(202);
      // Another key pair's signature, and a v1 HMAC keyed with the public key's bytes, do not verify.
      const stranger = ed25519Signer();
      expectError(
        await post(trigger.path, body, headers('msg_b', stranger.sign('msg_b', ts, body), ts)),
        401,
        'invalid_signature',
      );
      const asHmacKey = `whsec_${signer.publicKey.slice('whpk_'.length)}`;
      expectError(
        await post(trigger.path, body, headers('msg_c', standardSignature(asHmacKey, 'msg_c', ts, body), ts)),
        401,
        'invalid_signature',
      );

      const symmetric = `whsec_${randomBytes(32).toString('base64')}`;
      expect((await rotate(trigger.workflowId, { secret: symmetric })).status).toBe(200);
      expect((await post(trigger.path, body, headers('msg_d', signer.sign('msg_d', ts, body), ts))).status).toBe(202);
      expect(
        (await post(trigger.path, body, headers('msg_e', standardSignature(symmetric, 'msg_e', ts, body), ts))).status,
      ).toBe(202);
    });

    it('refuses timestamps outside the tolerance either way, or not 1 to 10 digits', async () => {
      const trigger = await createTrigger({ toleranceSeconds: 60 });
      const body = '{}';
      const at = (timestamp: string, id = uniqueId()) => ({
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': standardSignature(trigger.secret, id, Number(timestamp), body),
      });
      for (const ts of [nowSeconds() - 120, nowSeconds() + 120]) {
        expectError(await post(trigger.path, body, at(String(ts))), 401, 'timestamp_out_of_tolerance');
      }
      for (const ts of [`${nowSeconds()}.0`, `0${nowSeconds()}`, `+${nowSeconds()}`, '99999999999']) {
        expectError(await post(trigger.path, body, at(ts)), 401, 'timestamp_out_of_tolerance');
      }
      expect((await post(trigger.path, body, at(String(nowSeconds() - 50)))).status).toBe(202);
    });
  });

  describe('github specifics', () => {
    it("accepts GitHub's published test vector", async () => {
      const secret = "It's a Secret to Everybody";
      const body = 'Hello, World!';
      const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
      // The test's signer reproduces GitHub's documented value...
      expect(githubSignature(secret, body)).toBe(signature);
      // ...and hookrun accepts that exact request (not JSON, so sent form-encoded, as GitHub can be set to).
      const trigger = await createTrigger({ scheme: 'github', secret });
      const delivery = randomUUID();
      const res = await post(
        trigger.path,
        body,
        { 'x-github-delivery': delivery, 'x-github-event': 'ping', 'x-hub-signature-256': signature },
        'application/x-www-form-urlencoded',
      );
      expect(res.status).toBe(202);
      const [row] = await t.db.query('SELECT input, webhook_id FROM workflow_runs WHERE id = $1', [
        res.body.data.runId,
      ]);
      expect(row).toEqual({ input: { 'Hello, World!': '' }, webhook_id: delivery });
      // One digit off, or the legacy SHA-1 header alone, is refused.
      const wrong = `${signature.slice(0, -1)}${signature.endsWith('7') ? '8' : '7'}`;
      expectError(
        await post(trigger.path, body, { 'x-hub-signature-256': wrong }, 'application/x-www-form-urlencoded'),
        401,
        'invalid_signature',
      );
      expectError(
        await post(trigger.path, body, { 'x-hub-signature': 'sha1=abc' }, 'application/x-www-form-urlencoded'),
        401,
        'missing_signature',
      );
      const bare = signature.slice('sha256='.length);
      expectError(
        await post(trigger.path, body, { 'x-hub-signature-256': bare }, 'application/x-www-form-urlencoded'),
        401,
        'invalid_signature',
      );
    });

    it('deduplicates on the body hash when X-GitHub-Delivery is absent', async () => {
      const secret = `gh-${randomBytes(16).toString('hex')}`;
      const trigger = await createTrigger({ scheme: 'github', secret });
      const body = JSON.stringify({ zen: uniqueId() });
      const headers = { 'x-hub-signature-256': githubSignature(secret, body) };
      const first = await post(trigger.path, body, headers);
      const again = await post(trigger.path, body, headers);
      expect(first.status).toBe(202);
      expect(again.body.data.runId).toBe(first.body.data.runId);
      expect(again.headers['idempotent-replayed']).toBe('true');
    });
  });

  describe('stripe specifics', () => {
    const secret = `whsec_${randomBytes(24).toString('base64').replace(/[+/=]/g, 'x')}`;
    let trigger: Awaited<ReturnType<typeof createTrigger>>;
    const event = (id: string) => JSON.stringify({ id, object: 'event', type: 'customer.created' });

    beforeAll(async () => {
      trigger = await createTrigger({ scheme: 'stripe', secret, toleranceSeconds: 300 });
    });

    it('accepts a header with several v1 signatures when one matches (Stripe rolling its secret)', async () => {
      const body = event(`evt_${uniqueId()}`);
      const ts = nowSeconds();
      const right = stripeSignature(secret, body, ts).split(',')[1];
      const other = stripeSignature(`whsec_${randomBytes(24).toString('hex')}`, body, ts).split(',')[1];
      const header = `t=${ts},${other},v0=${'0'.repeat(64)},${right}`;
      expect((await post(trigger.path, body, { 'stripe-signature': header })).status).toBe(202);
    });

    it('uses the whole whsec_ string as the key, not its decoded bytes', async () => {
      const body = event(`evt_${uniqueId()}`);
      const ts = nowSeconds();
      const decodedKey = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const header = `t=${ts},v1=${bodyHmac(decodedKey, `${ts}.${body}`, 'hex')}`;
      expectError(await post(trigger.path, body, { 'stripe-signature': header }), 401, 'invalid_signature');
    });

    it('refuses timestamps outside the tolerance in both directions (Stripe refuses only old ones)', async () => {
      for (const ts of [nowSeconds() - 400, nowSeconds() + 400]) {
        const body = event(`evt_${uniqueId()}`);
        expectError(
          await post(trigger.path, body, { 'stripe-signature': stripeSignature(secret, body, ts) }),
          401,
          'timestamp_out_of_tolerance',
        );
      }
      const body = event(`evt_${uniqueId()}`);
      const header = stripeSignature(secret, body, nowSeconds()).replace(/^t=/, 't=0x');
      expectError(await post(trigger.path, body, { 'stripe-signature': header }), 401, 'timestamp_out_of_tolerance');
      const twoTimestamps = `t=${nowSeconds()},${stripeSignature(secret, body, nowSeconds())}`;
      expectError(await post(trigger.path, body, { 'stripe-signature': twoTimestamps }), 401, 'invalid_signature');
    });

    it('deduplicates on the event id across retries signed at different times', async () => {
      const body = event(`evt_${uniqueId()}`);
      const first = await post(trigger.path, body, { 'stripe-signature': stripeSignature(secret, body, nowSeconds()) });
      const retry = await post(trigger.path, body, {
        'stripe-signature': stripeSignature(secret, body, nowSeconds() - 30),
      });
      expect(first.status).toBe(202);
      expect(retry.body.data.runId).toBe(first.body.data.runId);
      expect(retry.headers['idempotent-replayed']).toBe('true');
    });

    it('refuses an API key pasted instead of the signing secret, without echoing it', async () => {
      const apiKey = `sk_test_${randomBytes(24).toString('hex')}`;
      const workflow = await createWorkflow(t);
      const res = await t
        .http()
        .post(`/v1/workflows/${workflow.id}/trigger/webhook`)
        .set(t.auth)
        .send({ scheme: 'stripe', secret: apiKey });
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ field: 'secret', message: expect.stringContaining('whsec_') }]);
      expect(JSON.stringify(res.body)).not.toContain(apiKey);
    });
  });

  describe('slack specifics', () => {
    // Slack's documented example ("Verifying requests from Slack").
    const VECTOR = {
      secret: '8f742231b10e8888abcd99yyyzzz85a5',
      timestamp: 1531420618,
      body:
        'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
        '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
        '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
        '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
      signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    const FORM = 'application/x-www-form-urlencoded';
    let trigger: Awaited<ReturnType<typeof createTrigger>>;

    beforeAll(async () => {
      trigger = await createTrigger({ scheme: 'slack', secret: VECTOR.secret });
    });

    it("refuses Slack's documented example as sent in 2018 for its age, and accepts it signed now", async () => {
      expect(slackSignature(VECTOR.secret, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
      const asDocumented = {
        'x-slack-request-timestamp': String(VECTOR.timestamp),
        'x-slack-signature': VECTOR.signature,
      };
      expectError(await post(trigger.path, VECTOR.body, asDocumented, FORM), 401, 'timestamp_out_of_tolerance');

      const ts = nowSeconds();
      const res = await post(
        trigger.path,
        VECTOR.body,
        {
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': slackSignature(VECTOR.secret, ts, VECTOR.body),
        },
        FORM,
      );
      expect(res.status).toBe(202);
      const [row] = await t.db.query('SELECT input FROM workflow_runs WHERE id = $1', [res.body.data.runId]);
      expect(row.input).toEqual(
        expect.objectContaining({ command: '/webhook-collect', user_name: 'roadrunner', text: '' }),
      );
    });

    it('refuses a timestamp that is not plain digits, and a signature of another version', async () => {
      const ts = nowSeconds();
      const body = 'command=%2Fdeploy&text=prod';
      const signature = slackSignature(VECTOR.secret, ts, body);
      expectError(
        await post(
          trigger.path,
          body,
          { 'x-slack-request-timestamp': `${ts}.5`, 'x-slack-signature': signature },
          FORM,
        ),
        401,
        'timestamp_out_of_tolerance',
      );
      expectError(
        await post(
          trigger.path,
          body,
          { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': signature.replace('v0=', 'v1=') },
          FORM,
        ),
        401,
        'invalid_signature',
      );
    });

    it("answers Slack's signed url_verification with its challenge and starts no run", async () => {
      const challenge = randomBytes(24).toString('base64url');
      const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge, type: 'url_verification' });
      const signed = () => {
        const ts = nowSeconds();
        return {
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': slackSignature(VECTOR.secret, ts, body),
        };
      };
      const [{ count: before }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs');
      const res = await post(trigger.path, body, signed());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ challenge });
      expect(res.headers.location).toBeUndefined();
      const [{ count: after }] = await t.db.query('SELECT count(*)::int AS count FROM workflow_runs');
      expect(after).toBe(before);
      // Unsigned, it is refused like anything else; for another scheme it is an ordinary event.
      expectError(await post(trigger.path, body, {}), 401, 'missing_signature');
      const secret = `gh-${randomBytes(16).toString('hex')}`;
      const github = await createTrigger({ scheme: 'github', secret });
      expect((await post(github.path, body, { 'x-hub-signature-256': githubSignature(secret, body) })).status).toBe(
        202,
      );
    });

    it('deduplicates a resent slash command (same timestamp and body), not a new one', async () => {
      const ts = nowSeconds();
      const body = `command=%2Fdeploy&text=prod&trigger_id=${uniqueId()}`;
      const headers = {
        'x-slack-request-timestamp': String(ts),
        'x-slack-signature': slackSignature(VECTOR.secret, ts, body),
      };
      const first = await post(trigger.path, body, headers, FORM);
      const resent = await post(trigger.path, body, headers, FORM);
      expect(first.status).toBe(202);
      expect(resent.body.data.runId).toBe(first.body.data.runId);
      expect(resent.headers['idempotent-replayed']).toBe('true');
    });
  });

  describe('shopify specifics', () => {
    it('refuses a hex signature (Shopify sends base64) and a missing secret at creation', async () => {
      const secret = `shpss_${randomBytes(16).toString('hex')}`;
      const trigger = await createTrigger({ scheme: 'shopify', secret });
      const body = JSON.stringify({ id: 820982911946154500 });
      expectError(
        await post(trigger.path, body, { 'x-shopify-hmac-sha256': bodyHmac(secret, body, 'hex') }),
        401,
        'invalid_signature',
      );
      const workflow = await createWorkflow(t);
      const res = await t
        .http()
        .post(`/v1/workflows/${workflow.id}/trigger/webhook`)
        .set(t.auth)
        .send({ scheme: 'shopify' });
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ field: 'secret', message: expect.stringContaining('shopify') }]);
    });
  });

  describe('hmac-sha256 specifics', () => {
    it('verifies hex without a prefix and deduplicates identical bodies when no id header is configured', async () => {
      const trigger = await createTrigger({ scheme: 'hmac-sha256', options: { signatureHeader: 'X-Signature' } });
      expect(trigger.options).toEqual({ signatureHeader: 'x-signature', encoding: 'hex', prefix: '' });
      const body = JSON.stringify({ order: uniqueId() });
      const upper = bodyHmac(trigger.secret, body, 'hex').toUpperCase();
      const first = await post(trigger.path, body, { 'x-signature': upper });
      const again = await post(trigger.path, body, { 'x-signature': bodyHmac(trigger.secret, body, 'hex') });
      expect(first.status).toBe(202);
      expect(again.body.data.runId).toBe(first.body.data.runId);
      const other = JSON.stringify({ order: uniqueId() });
      const second = await post(trigger.path, other, { 'x-signature': bodyHmac(trigger.secret, other, 'hex') });
      expect(second.body.data.runId).not.toBe(first.body.data.runId);
      expectError(
        await post(trigger.path, body, { 'x-signature': `sha256=${bodyHmac(trigger.secret, body, 'hex')}` }),
        401,
        'invalid_signature',
      );
    });
  });

  describe('token specifics', () => {
    it('wants the token in its header with its prefix', async () => {
      const token = `tok_${randomBytes(20).toString('hex')}`;
      const trigger = await createTrigger({ scheme: 'token', secret: token, options: { tokenHeader: 'X-Hook-Token' } });
      const body = JSON.stringify({ n: 1 });
      expect((await post(trigger.path, body, { 'x-hook-token': token })).status).toBe(202);
      expectError(await post(trigger.path, body, { authorization: token }), 401, 'missing_signature');
      expectError(await post(trigger.path, body, { 'x-hook-token': `${token}x` }), 401, 'invalid_signature');
      expectError(await post(trigger.path, body, { 'x-hook-token': token.slice(1) }), 401, 'invalid_signature');
    });
  });

  describe('secret hygiene', () => {
    it('keeps at most 10 previous secrets: after 12 rotations the two oldest stop verifying at once', async () => {
      const trigger = await createTrigger({ scheme: 'token', options: { tokenHeader: 'x-token' } });
      const secrets = [trigger.secret];
      for (let i = 0; i < 12; i++) {
        const res = await rotate(trigger.workflowId, { gracePeriodSeconds: 3600 });
        expect(res.status).toBe(200);
        secrets.push(res.body.data.secret as string);
      }
      const [{ count }] = await t.db.query(
        'SELECT count(*)::int AS count FROM webhook_trigger_secrets s JOIN webhook_triggers t ON t.id = s.trigger_id WHERE t.slug = $1',
        [trigger.slug],
      );
      expect(count).toBe(11);
      const send = (token: string) =>
        post(trigger.path, JSON.stringify({ token: secrets.indexOf(token) }), { 'x-token': token });
      expectError(await send(secrets[0]), 401, 'invalid_signature');
      expectError(await send(secrets[1]), 401, 'invalid_signature');
      for (const kept of secrets.slice(2)) expect((await send(kept)).status).toBe(202);
    });

    it('accepts whsec_ keys of 24 to 64 bytes only, and never a whsk_ private key', async () => {
      const attempt = async (secret: string) => {
        const workflow = await createWorkflow(t);
        return t.http().post(`/v1/workflows/${workflow.id}/trigger/webhook`).set(t.auth).send({ secret });
      };
      for (const bytes of [16, 23, 65]) {
        const res = await attempt(`whsec_${randomBytes(bytes).toString('base64')}`);
        expectError(res, 400, 'validation_failed');
        expect(res.body.error.details[0].field).toBe('secret');
      }
      for (const bytes of [24, 64])
        expect((await attempt(`whsec_${randomBytes(bytes).toString('base64')}`)).status).toBe(201);
      const unpadded = `whsec_${randomBytes(32).toString('base64').replace(/=+$/, '')}`;
      expectError(await attempt(unpadded), 400, 'validation_failed');
      const privateKey = `whsk_${randomBytes(64).toString('base64')}`;
      const res = await attempt(privateKey);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.message).toContain('whpk_');
      expect(JSON.stringify(res.body)).not.toContain(privateKey);
    });
  });
});

describe('trigger API with schemes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
  });

  afterAll(async () => {
    await t.close();
  });

  const triggerUrl = (workflowId: string) => `/v1/workflows/${workflowId}/trigger/webhook`;

  it('refuses unknown schemes, and options a scheme does not take or lacks, with validation_failed details', async () => {
    const { id } = await createWorkflow(t);
    const create = (body: object) => t.http().post(triggerUrl(id)).set(t.auth).send(body);
    expectError(await create({ scheme: 'svix' }), 400, 'validation_failed');
    for (const [body, field] of [
      [{ scheme: 'hmac-sha256' }, 'options'],
      [{ scheme: 'hmac-sha256', options: { signatureHeader: 'x-sig', encoding: 'base32' } }, 'options'],
      [{ scheme: 'hmac-sha256', options: { signatureHeader: 'content-type' } }, 'options'],
      [{ scheme: 'token', options: { tokenHeader: 'x-t', extra: 1 } }, 'options'],
      [{ scheme: 'github', secret: 'long enough secret', options: { signatureHeader: 'x' } }, 'options'],
      [{ scheme: 'github', secret: 'short' }, 'secret'],
      [{ scheme: 'slack' }, 'secret'],
    ] as const) {
      const res = await create(body);
      expectError(res, 400, 'validation_failed');
      expect(res.body.error.details).toEqual([{ field, message: expect.any(String) }]);
    }
    expectError(await create({ options: 'x-sig' }), 400, 'validation_failed');
    // Nothing was created by the refusals.
    expectError(await t.http().get(triggerUrl(id)).set(t.auth), 404, 'trigger_not_found');
  });

  it('changes the scheme with PATCH: keeps secrets that fit, refuses those that do not unless a new one is given', async () => {
    const { id } = await createWorkflow(t);
    const created = await t.http().post(triggerUrl(id)).set(t.auth).send({});
    const { slug, secret: generated } = created.body.data as { slug: string; secret: string };
    const path = `/webhooks/workflows/${slug}`;
    const patch = (body: object) => t.http().patch(triggerUrl(id)).set(t.auth).send(body);

    // A generated whsec_ secret is a fine GitHub secret too.
    const toGithub = await patch({ scheme: 'github' });
    expect(toGithub.status).toBe(200);
    expect(toGithub.body.data).toEqual(expect.objectContaining({ scheme: 'github', options: {} }));
    expect(JSON.stringify(toGithub.body)).not.toContain(generated);
    const body = JSON.stringify({ n: 1 });
    const github = (key: string) =>
      t
        .http()
        .post(path)
        .set('content-type', 'application/json')
        .set({ 'x-hub-signature-256': githubSignature(key, body), 'x-github-delivery': randomUUID() })
        .send(body);
    expect((await github(generated)).status).toBe(202);

    // A GitHub secret is no Standard Webhooks key: the change needs a new secret.
    const githubSecret = "It's a Secret to Everybody";
    expect((await patch({ secret: githubSecret })).status).toBe(200);
    expectError(await github(generated), 401, 'invalid_signature');
    expect((await github(githubSecret)).status).toBe(202);
    const refused = await patch({ scheme: 'standard-webhooks' });
    expectError(refused, 400, 'validation_failed');
    expect(refused.body.error.details).toEqual([
      { field: 'secret', message: expect.stringContaining('standard-webhooks') },
    ]);
    expect((await t.http().get(triggerUrl(id)).set(t.auth)).body.data.scheme).toBe('github');

    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const toStandard = await patch({ scheme: 'standard-webhooks', secret: whsec });
    expect(toStandard.status).toBe(200);
    const ts = nowSeconds();
    const standard = await t
      .http()
      .post(path)
      .set('content-type', 'application/json')
      .set({
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(ts),
        'webhook-signature': standardSignature(whsec, 'msg_1', ts, body),
      })
      .send(body);
    expect(standard.status).toBe(202);

    // A scheme with options takes them with the change, and they can be changed alone later.
    expectError(await patch({ scheme: 'hmac-sha256' }), 400, 'validation_failed');
    const toHmac = await patch({ scheme: 'hmac-sha256', options: { signatureHeader: 'X-Sig' } });
    expect(toHmac.status).toBe(200);
    expect(toHmac.body.data.options).toEqual({ signatureHeader: 'x-sig', encoding: 'hex', prefix: '' });
    const changed = await patch({ options: { signatureHeader: 'X-Other', encoding: 'base64' } });
    expect(changed.body.data.options).toEqual({ signatureHeader: 'x-other', encoding: 'base64', prefix: '' });
    const hmacSent = await t
      .http()
      .post(path)
      .set('content-type', 'application/json')
      .set('x-other', bodyHmac(whsec, body, 'base64'))
      .send(body);
    expect(hmacSent.status).toBe(202);
    // Options alone for a scheme that takes none are refused.
    expect((await patch({ scheme: 'github' })).status).toBe(200);
    expectError(await patch({ options: { signatureHeader: 'x' } }), 400, 'validation_failed');
  });

  it('requires the provider secret when rotating a scheme that cannot generate one', async () => {
    const { id } = await createWorkflow(t);
    await t
      .http()
      .post(triggerUrl(id))
      .set(t.auth)
      .send({ scheme: 'shopify', secret: 'shpss_0123456789abcdef' })
      .expect(201);
    const rotate = (body: object) =>
      t.http().post(`/v1/workflows/${id}/trigger/webhook-secret/rotate`).set(t.auth).send(body);
    const res = await rotate({});
    expectError(res, 400, 'validation_failed');
    expect(res.body.error.details).toEqual([{ field: 'secret', message: expect.stringContaining('shopify') }]);
    expectError(await rotate({ secret: 'short' }), 400, 'validation_failed');
    const rotated = await rotate({ secret: 'shpss_fedcba9876543210' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).toBe('shpss_fedcba9876543210');
  });

  it('verifies nothing when the stored options no longer validate', async () => {
    const { id } = await createWorkflow(t);
    const created = await t
      .http()
      .post(triggerUrl(id))
      .set(t.auth)
      .send({ scheme: 'token', options: { tokenHeader: 'x-token' } });
    const { slug, secret } = created.body.data as { slug: string; secret: string };
    const send = () =>
      t
        .http()
        .post(`/webhooks/workflows/${slug}`)
        .set('content-type', 'application/json')
        .set('x-token', secret)
        .send('{}');
    expect((await send()).status).toBe(202);
    await t.db.query(`UPDATE webhook_triggers SET options = '{"tokenHeader": "content-type"}' WHERE slug = $1`, [slug]);
    // A change made through the API drops the cache entry; here the row was changed behind its back.
    await t.http().patch(triggerUrl(id)).set(t.auth).send({ enabled: true }).expect(200);
    expectError(await send(), 401, 'invalid_signature');
  });
});
