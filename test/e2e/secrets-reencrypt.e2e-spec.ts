import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';

import { parseKeyring } from '../../src/config/keyring.parser.js';
import { SecretCipher } from '../../src/modules/secrets/secret.cipher.js';
import { reencryptSecrets, reencryptStepSecrets } from '../../src/modules/secrets/secret-reencryption.task.js';
import { stepSecretAssociatedData } from '../../src/modules/secrets/step-secret.entity.js';
import { StepSecretsRepository } from '../../src/modules/secrets/step-secrets.repository.js';
import { TriggerSecretsRepository } from '../../src/modules/secrets/trigger-secrets.repository.js';
import { TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { createTrigger, createWorkflow } from '../support/factories.js';
import { PROJECT_ROOT } from '../support/processes.js';
import { githubSignature } from '../support/provider-signing.js';
import { signedHeaders } from '../support/signing.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';

const SCRIPT = join(PROJECT_ROOT, 'dist', 'database', 'reencrypt-secrets.command.js');
const NEW_KEY = `k2:${randomBytes(32).toString('base64url')}`;
/** The new key first (it encrypts), the old one still there (it decrypts). */
const RING = `${NEW_KEY},${TEST_ENCRYPTION_KEY}`;

/** `npm run secrets:reencrypt` as an operator runs it: the built script, configured by the environment. */
async function runScript(keyring: string): Promise<{ code: number | null; output: string }> {
  if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: run "npm run build" first`);
  const child = spawn(process.execPath, [SCRIPT], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: TEST_DATABASE_URL, SECRETS_ENCRYPTION_KEY: keyring },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, output };
}

describe('re-encrypting secrets under a new key', () => {
  let before: TestApp;
  const triggers: { path: string; secret: string; scheme: string }[] = [];
  const stepSecrets = {
    API_TOKEN: `tok-${randomBytes(12).toString('hex')}`,
    DB_PASSWORD: randomBytes(12).toString('hex'),
  };

  beforeAll(async () => {
    // Secrets written under the old key alone, as a running installation has them.
    before = await startTestApp({ worker: false });
    await resetDatabase(before.db);
    const standard = await createWorkflow(before);
    const first = await createTrigger(before, standard.id);
    const rotated = await before
      .http()
      .post(`/v1/workflows/${standard.id}/trigger/webhook-secret/rotate`)
      .set(before.auth)
      .send({ gracePeriodSeconds: 3600 });
    triggers.push({ ...first, scheme: 'standard-webhooks' });
    triggers.push({ ...first, secret: rotated.body.data.secret as string, scheme: 'standard-webhooks' });
    const github = await createWorkflow(before);
    const secret = `gh-${randomBytes(12).toString('hex')}`;
    triggers.push({ ...(await createTrigger(before, github.id, { scheme: 'github', secret })), scheme: 'github' });
    for (const [name, value] of Object.entries(stepSecrets)) {
      expect((await before.http().put(`/v1/secrets/${name}`).set(before.auth).send({ value })).status).toBe(201);
    }
  });

  afterAll(async () => {
    await before.close();
  });

  const ciphertexts = async (): Promise<string[]> => {
    const rows: { ciphertext: string }[] = await before.db.query(
      'SELECT ciphertext FROM webhook_trigger_secrets ORDER BY id',
    );
    return rows.map((r) => r.ciphertext);
  };

  const stepCiphertexts = async (): Promise<{ name: string; ciphertext: string }[]> =>
    before.db.query('SELECT name, ciphertext FROM step_secrets ORDER BY name');

  it('rewrites every secret under the newest key; webhooks then verify with the old key removed', async () => {
    const old = await ciphertexts();
    expect(old).toHaveLength(3);
    for (const token of old) expect(token).toMatch(/^v1:k1:/);

    const run = await runScript(RING);
    expect(run).toEqual({
      code: 0,
      output: expect.stringContaining('Re-encrypted 3 of 3 trigger secrets under key "k2"'),
    });
    const now = await ciphertexts();
    for (const token of now) expect(token).toMatch(/^v1:k2:/);
    expect(now.some((token) => old.includes(token))).toBe(false);
    expect(run.output).toContain(
      'Re-encrypted 2 of 2 step secrets under key "k2"; 0 already were; 0 could not be read',
    );
    // Step secrets open with the new key alone, each under its own name.
    const newOnly = new SecretCipher(parseKeyring(NEW_KEY));
    const steps = await stepCiphertexts();
    expect(steps.map((row) => row.name)).toEqual(['API_TOKEN', 'DB_PASSWORD']);
    for (const row of steps) {
      expect(row.ciphertext).toMatch(/^v1:k2:/);
      expect(newOnly.decrypt(row.ciphertext, stepSecretAssociatedData(row.name))).toBe(
        stepSecrets[row.name as keyof typeof stepSecrets],
      );
    }
    // The output names counts and key ids, nothing secret.
    for (const trigger of triggers) expect(run.output).not.toContain(trigger.secret);
    for (const value of Object.values(stepSecrets)) expect(run.output).not.toContain(value);
    expect(run.output).not.toContain(NEW_KEY.slice(3));

    // Run again: nothing left to do.
    const again = (await runScript(RING)).output;
    expect(again).toContain('Re-encrypted 0 of 3 trigger secrets under key "k2"; 3 already were');
    expect(again).toContain('Re-encrypted 0 of 2 step secrets under key "k2"; 2 already were');

    const after = await startTestApp({ worker: false, env: { SECRETS_ENCRYPTION_KEY: NEW_KEY } });
    try {
      for (const trigger of triggers) {
        const body = JSON.stringify({ id: randomUUID() });
        const headers =
          trigger.scheme === 'github'
            ? { 'x-hub-signature-256': githubSignature(trigger.secret, body) }
            : signedHeaders(trigger.secret, body);
        const res = await after
          .http()
          .post(trigger.path)
          .set('content-type', 'application/json')
          .set(headers)
          .send(body);
        expect(res.status).toBe(202);
      }
    } finally {
      await after.close();
    }
  });

  it('works in batches, and reports the secrets no key opens without stopping at them', async () => {
    const [{ id: triggerId }] = await before.db.query('SELECT id FROM webhook_triggers LIMIT 1');
    const stranger = new SecretCipher(parseKeyring(`k9:${randomBytes(32).toString('base64url')}`));
    const lostId = randomUUID();
    await before.db.query(
      `INSERT INTO webhook_trigger_secrets (id, trigger_id, ciphertext, created_at, expires_at)
       VALUES ($1, $2, $3, now(), now() + interval '1 hour')`,
      [lostId, triggerId, stranger.encrypt('whsec_lost', triggerId as string)],
    );
    // Back under the old key, so that there is work to do, spread over batches of 2.
    const oldCipher = new SecretCipher(parseKeyring(RING.split(',').reverse().join(',')));
    const report = await reencryptSecrets(new TriggerSecretsRepository(before.db), oldCipher, 2);
    expect(report).toEqual({ scanned: 4, reencrypted: 3, unreadable: [lostId] });
    for (const token of await ciphertexts()) expect(token).toMatch(/^v1:k[19]:/);
    await before.db.query(
      `INSERT INTO step_secrets (name, ciphertext, created_at, updated_at) VALUES ($1, $2, now(), now())`,
      ['LOST_TOKEN', stranger.encrypt('lost', stepSecretAssociatedData('LOST_TOKEN'))],
    );
    const steps = await reencryptStepSecrets(new StepSecretsRepository(before.db), oldCipher, 1);
    expect(steps).toEqual({ scanned: 3, reencrypted: 2, unreadable: ['LOST_TOKEN'] });

    const run = await runScript(RING);
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      'Re-encrypted 3 of 4 trigger secrets under key "k2"; 0 already were; 1 could not be read',
    );
    expect(run.output).toContain(lostId);
    expect(run.output).toContain(
      'Re-encrypted 2 of 3 step secrets under key "k2"; 0 already were; 1 could not be read',
    );
    expect(run.output).toContain('LOST_TOKEN');
    expect((await stepCiphertexts()).filter((row) => row.ciphertext.startsWith('v1:k2:'))).toHaveLength(2);
    expect((await ciphertexts()).filter((token) => token.startsWith('v1:k2:'))).toHaveLength(3);
  });

  it('refuses to run without its configuration', async () => {
    const run = await runScript('not a key');
    expect(run.code).toBe(1);
    expect(run.output).toContain('SECRETS_ENCRYPTION_KEY');
    expect(run.output).not.toContain('not a key');
  });
});
