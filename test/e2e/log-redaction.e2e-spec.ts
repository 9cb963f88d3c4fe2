import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';

import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../support/env.js';
import { startHookrun, type HookrunProcess } from '../support/processes.js';
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
import { deleteQueueKeys, testQueuePrefix } from '../support/test-app.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

/**
 * The built hookrun as a process at LOG_LEVEL=debug, driven through a whole scenario with planted
 * secrets and API keys (success, every kind of failure, rotations, broken rows that make it log
 * errors), then its captured stdout and stderr searched for every planted value.
 */
describe('no secret in the logs', () => {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex');
  const encryptionKey = randomBytes(32);
  const planted = {
    bootstrapKey: `hr_${randomBytes(24).toString('base64url')}`,
    encryptionKey: encryptionKey.toString('base64url'),
    wrongApiKey: `hr_${randomBytes(32).toString('base64url')}`,
    basicCredential: randomBytes(18).toString('base64'),
    githubSecret: `gh planted ${hex(12)}`,
    stripeSecret: `whsec_${hex(20)}`,
    stripeApiKey: `sk_live_${hex(20)}`,
    slackSecret: hex(16),
    shopifySecret: `shpss_${hex(16)}`,
    tokenSecret: `tok-${hex(16)}`,
    givenStandardSecret: `whsec_${randomBytes(32).toString('base64')}`,
    privateKey: `whsk_${randomBytes(64).toString('base64')}`,
  };
  /** Everything that must not appear: planted values, secrets hookrun generated, signatures sent. */
  const needles = new Map<string, string>(Object.entries(planted));
  const remember = (label: string, value: string) => needles.set(`${label} #${needles.size}`, value);

  let app: HookrunProcess;
  const queuePrefix = testQueuePrefix();
  let output = '';
  let requests = 0;
  const db = new pg.Client({ connectionString: TEST_DATABASE_URL });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${planted.bootstrapKey}`, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checked field by field
    return { status: res.status, body: (await res.json().catch(() => null)) as any };
  };

  /** A webhook with its signature headers; every header value sent is remembered as a needle. */
  const deliver = async (
    path: string,
    body: string,
    headers: Record<string, string>,
    contentType = 'application/json',
  ) => {
    for (const [name, value] of Object.entries(headers)) {
      if (!/id$|event|topic|timestamp/.test(name)) remember(name, value);
    }
    requests++;
    const res = await fetch(`${app.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...headers },
      body,
    });
    return res.status;
  };

  const newTrigger = async (trigger: object) => {
    const workflow = await call('POST', '/v1/workflows', {
      name: 'logged',
      definition: { steps: [{ id: 'fail', type: 'fail', message: 'failed on {{ input.note }}' }] },
    });
    expect(workflow.status).toBe(201);
    const created = await call('POST', `/v1/workflows/${workflow.body.data.id}/trigger/webhook`, trigger);
    expect(created.status).toBe(201);
    remember('created secret', created.body.data.secret as string);
    return {
      workflowId: workflow.body.data.id as string,
      path: new URL(created.body.data.url as string).pathname,
      slug: created.body.data.slug as string,
      secret: created.body.data.secret as string,
    };
  };

  beforeAll(async () => {
    await ensureTestDatabase();
    await db.connect();
    app = await startHookrun([], {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      SECRETS_ENCRYPTION_KEY: `k1:${planted.encryptionKey}`,
      BOOTSTRAP_API_KEY: planted.bootstrapKey,
      QUEUE_PREFIX: queuePrefix,
      LOG_LEVEL: 'debug',
      // Every request reads the trigger afresh, so that rows broken below are seen at once.
      TRIGGER_CACHE_TTL_MS: '0',
    });

    // API keys: a new one, then refused ones.
    const apiKey = await call('POST', '/v1/api-keys', { name: 'planted' });
    remember('api key', apiKey.body.data.key as string);
    expect(
      (await call('GET', '/v1/workflows', undefined, { authorization: `Bearer ${apiKey.body.data.key}` })).status,
    ).toBe(200);
    expect(
      (await call('GET', '/v1/workflows', undefined, { authorization: `Bearer ${planted.wrongApiKey}` })).status,
    ).toBe(401);
    expect(
      (await call('GET', '/v1/workflows', undefined, { authorization: `Basic ${planted.basicCredential}` })).status,
    ).toBe(401);

    // Every scheme: accepted, replayed, refused.
    const note = { note: `planted ${planted.givenStandardSecret}` };
    const standard = await newTrigger({});
    const body = JSON.stringify(note);
    const ts = nowSeconds();
    const id = `msg_${hex(8)}`;
    const standardHeaders = {
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': standardSignature(standard.secret, id, ts, body),
    };
    expect(await deliver(standard.path, body, standardHeaders)).toBe(202);
    expect(await deliver(standard.path, body, standardHeaders)).toBe(202);
    const forged = {
      ...standardHeaders,
      'webhook-signature': standardSignature(planted.givenStandardSecret, id, ts, body),
    };
    expect(await deliver(standard.path, body, forged)).toBe(401);
    expect(await deliver(standard.path, '{"bad json', standardHeaders)).toBe(401);

    const signer = ed25519Signer();
    remember('public key', signer.publicKey);
    const ed = await newTrigger({ secret: signer.publicKey });
    expect(await deliver(ed.path, body, { ...standardHeaders, 'webhook-signature': signer.sign(id, ts, body) })).toBe(
      202,
    );

    const github = await newTrigger({ scheme: 'github', secret: planted.githubSecret });
    expect(
      await deliver(github.path, body, {
        'x-github-delivery': randomUUID(),
        'x-hub-signature-256': githubSignature(planted.githubSecret, body),
      }),
    ).toBe(202);
    expect(
      await deliver(github.path, body, { 'x-hub-signature-256': githubSignature('wrong secret value', body) }),
    ).toBe(401);

    const stripe = await newTrigger({ scheme: 'stripe', secret: planted.stripeSecret });
    const event = JSON.stringify({ id: `evt_${hex(8)}`, type: 'invoice.paid' });
    expect(
      await deliver(stripe.path, event, {
        'stripe-signature': stripeSignature(planted.stripeSecret, event, nowSeconds()),
      }),
    ).toBe(202);
    expect(
      await deliver(stripe.path, event, {
        'stripe-signature': stripeSignature(planted.stripeSecret, event, nowSeconds() - 3600),
      }),
    ).toBe(401);
    const stripeWorkflow = await call('POST', '/v1/workflows', {
      name: 'x',
      definition: { steps: [{ id: 'a', type: 'transform', expression: '1' }] },
    });
    expect(
      (
        await call('POST', `/v1/workflows/${stripeWorkflow.body.data.id}/trigger/webhook`, {
          scheme: 'stripe',
          secret: planted.stripeApiKey,
        })
      ).status,
    ).toBe(400);

    const slack = await newTrigger({ scheme: 'slack', secret: planted.slackSecret });
    const form = `command=%2Fdeploy&text=${encodeURIComponent(planted.tokenSecret)}`;
    const slackTs = nowSeconds();
    expect(
      await deliver(
        slack.path,
        form,
        {
          'x-slack-request-timestamp': String(slackTs),
          'x-slack-signature': slackSignature(planted.slackSecret, slackTs, form),
        },
        'application/x-www-form-urlencoded',
      ),
    ).toBe(202);

    const shopify = await newTrigger({ scheme: 'shopify', secret: planted.shopifySecret });
    expect(
      await deliver(shopify.path, body, {
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-hmac-sha256': shopifySignature(planted.shopifySecret, body),
      }),
    ).toBe(202);
    expect(
      await deliver(shopify.path, body, { 'x-shopify-hmac-sha256': shopifySignature(planted.githubSecret, body) }),
    ).toBe(401);

    const hmac = await newTrigger({
      scheme: 'hmac-sha256',
      options: { signatureHeader: 'X-Signature', prefix: 'sha256=' },
    });
    expect(await deliver(hmac.path, body, { 'x-signature': `sha256=${bodyHmac(hmac.secret, body, 'hex')}` })).toBe(202);

    const token = await newTrigger({
      scheme: 'token',
      secret: planted.tokenSecret,
      options: { tokenHeader: 'X-Hook-Token' },
    });
    expect(await deliver(token.path, body, { 'x-hook-token': planted.tokenSecret })).toBe(202);
    expect(await deliver(token.path, body, { 'x-hook-token': `${planted.tokenSecret}-wrong` })).toBe(401);

    // Refused secrets and broken requests to the API that carry secrets.
    expect(
      (
        await call('POST', `/v1/workflows/${stripeWorkflow.body.data.id}/trigger/webhook`, {
          secret: planted.privateKey,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await call(
          'POST',
          `/v1/workflows/${stripeWorkflow.body.data.id}/trigger/webhook`,
          `{"secret": "${planted.givenStandardSecret}"`,
        )
      ).status,
    ).toBe(400);

    // Rotations, generated and given.
    const rotated = await call('POST', `/v1/workflows/${standard.workflowId}/trigger/webhook-secret/rotate`, {});
    remember('rotated secret', rotated.body.data.secret as string);
    expect(
      (
        await call('POST', `/v1/workflows/${github.workflowId}/trigger/webhook-secret/rotate`, {
          secret: `${planted.githubSecret} v2`,
        })
      ).status,
    ).toBe(200);
    remember('rotated github secret', `${planted.githubSecret} v2`);

    // Rows broken behind hookrun's back: a secret no key opens and options that no longer validate,
    // both logged as errors on the next delivery.
    await db.query(
      `UPDATE webhook_trigger_secrets SET ciphertext = 'v1:k9:AAAAAAAAAAAAAAAA:AAAA:AAAAAAAAAAAAAAAAAAAAAA'
                     WHERE trigger_id = (SELECT id FROM webhook_triggers WHERE slug = $1)`,
      [shopify.slug],
    );
    expect(
      await deliver(shopify.path, body, { 'x-shopify-hmac-sha256': shopifySignature(planted.shopifySecret, body) }),
    ).toBe(401);
    await db.query(`UPDATE webhook_triggers SET options = '{"tokenHeader": "cookie"}' WHERE slug = $1`, [token.slug]);
    expect(await deliver(token.path, body, { 'x-hook-token': planted.tokenSecret })).toBe(401);

    // Let the runs fail (their message quotes a whsec_-shaped value) and the delivery log be written.
    await waitUntil(async () => {
      const listed = await call('GET', `/v1/workflows/${standard.workflowId}/trigger/webhook/deliveries`);
      return listed.status === 200 && (listed.body.data as unknown[]).length >= 4;
    });
    expect(await app.stop('SIGTERM')).toBe(0);
    output = app.output();
  });

  afterAll(async () => {
    await app?.stop('SIGKILL');
    await db.end();
    await deleteQueueKeys(TEST_REDIS_URL, queuePrefix);
  });

  it('captured a verbose log of the whole scenario', () => {
    const lines = output.split('\n').filter((line) => line.trim() !== '');
    // Every line is JSON: scrubbing never breaks a line.
    const entries = lines.map((line) => JSON.parse(line) as { level: number; msg: string; context?: string });
    const deliveries = entries.filter((e) => e.level === 20 && e.context === 'WebhookDeliveries');
    expect(deliveries.length).toBeGreaterThanOrEqual(requests);
    expect(entries.some((e) => e.level === 50 && /Secret .* is unusable: SecretDecryptionError/.test(e.msg))).toBe(
      true,
    );
    expect(entries.some((e) => e.level === 50 && /verifies nothing/.test(e.msg))).toBe(true);
    expect(output).toContain('SIGTERM received: shutting down');
  });

  it('holds none of the planted secrets and API keys, nor the secrets and signatures sent, in any encoding', () => {
    expect(needles.size).toBeGreaterThan(30);
    for (const [label, value] of needles) {
      const forms = new Set([value]);
      const afterPrefix = value.replace(/^(whsec_|whpk_|whsk_|hr_)/, '');
      if (afterPrefix.length >= 16) forms.add(afterPrefix);
      if (/^whsec_[A-Za-z0-9+/]+=*$/.test(value)) {
        const key = Buffer.from(afterPrefix, 'base64');
        forms.add(key.toString('hex'));
        forms.add(key.toString('base64url'));
      }
      for (const form of forms) {
        if (output.includes(form)) throw new Error(`${label} appears in the logs`);
      }
    }
    for (const form of [encryptionKey.toString('hex'), encryptionKey.toString('base64')]) {
      expect(output).not.toContain(form);
    }
    expect(output).not.toContain(createHash('sha256').update(planted.bootstrapKey).digest('hex'));
  });
});
