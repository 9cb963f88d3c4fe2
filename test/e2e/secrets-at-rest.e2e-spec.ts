import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';

import { expectError } from '../support/expect-error.js';
import { createWebhookWorkflow } from '../support/factories.js';
import { signedHeaders } from '../support/signing.js';
import { TEST_API_KEY } from '../support/env.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

/** Every text value of every row of every table, as PostgreSQL stores it. */
async function dumpDatabase(t: TestApp): Promise<string> {
  const tables: { table_name: string }[] = await t.db.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
  );
  const parts: string[] = [];
  for (const { table_name } of tables) {
    const rows: unknown[] = await t.db.query(`SELECT row_to_json(x)::text AS row FROM "${table_name}" x`);
    parts.push(...rows.map((r) => (r as { row: string }).row));
  }
  return parts.join('\n');
}

describe('secrets and API keys at rest', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ worker: false });
    await resetDatabase(t.db);
  });

  afterAll(async () => {
    await t.close();
  });

  it('keeps no trigger secret and no API key in clear anywhere in the database', async () => {
    const { id, trigger } = await createWebhookWorkflow(t);
    const rotated = await t
      .http()
      .post(`/v1/workflows/${id}/trigger/webhook-secret/rotate`)
      .set(t.auth)
      .send({ gracePeriodSeconds: 60 });
    const apiKey = (await t.http().post('/v1/api-keys').set(t.auth).send({ name: 'x' })).body.data.key as string;
    const secrets = [trigger.secret, rotated.body.data.secret as string];

    const dump = await dumpDatabase(t);
    expect(dump.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice('whsec_'.length));
      // Nor its key bytes in another encoding.
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      expect(dump).not.toContain(key.toString('hex'));
      expect(dump).not.toContain(key.toString('base64url'));
    }
    expect(dump).not.toContain(apiKey);
    expect(dump).not.toContain(apiKey.slice(3));
    expect(dump).not.toContain(TEST_API_KEY);

    // What is there instead: AES-256-GCM tokens and a SHA-256 hash.
    const stored: { ciphertext: string }[] = await t.db.query('SELECT ciphertext FROM webhook_trigger_secrets');
    expect(stored).toHaveLength(2);
    for (const { ciphertext } of stored) expect(ciphertext).toMatch(/^v1:k1:/);
    const [{ key_hash }] = await t.db.query('SELECT key_hash FROM api_keys');
    expect(key_hash).toBe(createHash('sha256').update(apiKey).digest('hex'));
  });

  it('binds a ciphertext to its trigger: moved to another trigger it no longer verifies anything', async () => {
    const a = await createWebhookWorkflow(t);
    const b = await createWebhookWorkflow(t);
    const [{ id: aTrigger }] = await t.db.query('SELECT id FROM webhook_triggers WHERE slug = $1', [a.trigger.slug]);
    const [{ id: bTrigger }] = await t.db.query('SELECT id FROM webhook_triggers WHERE slug = $1', [b.trigger.slug]);
    await t.db.query(
      `UPDATE webhook_trigger_secrets SET ciphertext = (SELECT ciphertext FROM webhook_trigger_secrets WHERE trigger_id = $1)
        WHERE trigger_id = $2`,
      [aTrigger, bTrigger],
    );
    const body = '{}';
    const res = await t
      .http()
      .post(b.trigger.path)
      .set('content-type', 'application/json')
      .set(signedHeaders(a.trigger.secret, body))
      .send(body);
    expectError(res, 401, 'invalid_signature');
  });
});
