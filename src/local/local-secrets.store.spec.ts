import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../config/app.config.js';
import { parseKeyring } from '../config/keyring.parser.js';
import { loadOrCreateLocalSecrets, LocalSecretsError } from './local-secrets.store.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('loadOrCreateLocalSecrets', () => {
  let root: string;
  let dir: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hookrun-local-secrets-'));
    dir = join(root, '.data', 'local');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates secrets that the configuration accepts, readable by the owner only', () => {
    const secrets = loadOrCreateLocalSecrets(dir);

    expect(secrets.created).toBe(true);
    expect(parseKeyring(secrets.secretsEncryptionKey)[0].key).toHaveLength(32);
    expect(secrets.bootstrapApiKey).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    const config = loadConfig({
      DATABASE_URL: 'postgres://localhost/hookrun',
      REDIS_URL: 'redis://localhost:6379',
      SECRETS_ENCRYPTION_KEY: secrets.secretsEncryptionKey,
      BOOTSTRAP_API_KEY: secrets.bootstrapApiKey,
    });
    expect(config.bootstrapApiKey).toBe(secrets.bootstrapApiKey);
    expect(mode(join(dir, 'secrets.json'))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
  });

  it('leaves parent folders at the default mode, so the postgres user can still reach a sibling data folder', () => {
    loadOrCreateLocalSecrets(dir);
    const sibling = join(root, 'default-mode');
    mkdirSync(sibling);

    expect(mode(join(root, '.data'))).toBe(mode(sibling));
  });

  it('reuses the stored secrets on later calls', () => {
    const first = loadOrCreateLocalSecrets(dir);
    const second = loadOrCreateLocalSecrets(dir);

    expect(second).toEqual({ ...first, created: false });
  });

  it('makes different secrets for different folders', () => {
    const a = loadOrCreateLocalSecrets(join(root, 'a'));
    const b = loadOrCreateLocalSecrets(join(root, 'b'));

    expect(a.secretsEncryptionKey).not.toBe(b.secretsEncryptionKey);
    expect(a.bootstrapApiKey).not.toBe(b.bootstrapApiKey);
  });

  it('refuses a file that is not JSON, and keeps it', () => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'secrets.json'), '{"secretsEncryptionKey": "trunc');

    expect(() => loadOrCreateLocalSecrets(dir)).toThrow(LocalSecretsError);
    expect(() => loadOrCreateLocalSecrets(dir)).toThrow(/secrets\.json is corrupt \(not JSON\).*delete it/);
    expect(readFileSync(join(dir, 'secrets.json'), 'utf8')).toBe('{"secretsEncryptionKey": "trunc');
  });

  it('refuses a file with a malformed key', () => {
    const { bootstrapApiKey } = loadOrCreateLocalSecrets(dir);
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ secretsEncryptionKey: 'short', bootstrapApiKey }));

    expect(() => loadOrCreateLocalSecrets(dir)).toThrow(/secretsEncryptionKey must be 32 bytes/);
  });

  it('refuses a file without an API key', () => {
    const { secretsEncryptionKey } = loadOrCreateLocalSecrets(dir);
    writeFileSync(join(dir, 'secrets.json'), JSON.stringify({ secretsEncryptionKey }));

    expect(() => loadOrCreateLocalSecrets(dir)).toThrow(/bootstrapApiKey must be/);
  });

  it('tightens a stored file that others can read', () => {
    loadOrCreateLocalSecrets(dir);
    chmodSync(join(dir, 'secrets.json'), 0o644);

    loadOrCreateLocalSecrets(dir);

    expect(mode(join(dir, 'secrets.json'))).toBe(0o600);
  });
});
