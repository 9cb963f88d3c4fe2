import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '../config/app.config.js';
import { ensureKeyFiles, readStoredKey } from './key-files.store.js';
import { LocalSecretsError } from './local-secrets.store.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('ensureKeyFiles', () => {
  let root: string;
  let dir: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hookrun-key-files-'));
    dir = join(root, 'keys');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('makes one file per key, owner-only, that hookrun reads through the _FILE variables in production', () => {
    const keys = ensureKeyFiles(dir, ['secretsEncryptionKey', 'bootstrapApiKey']);

    expect(keys.secretsEncryptionKey?.created).toBe(true);
    expect(keys.bootstrapApiKey?.created).toBe(true);
    expect(keys.bootstrapApiKey?.value).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    // An id of its own, so that it can be listed beside a former key (a `k1`) while secrets are re-encrypted.
    expect(keys.secretsEncryptionKey?.value).toMatch(/^gen1:[A-Za-z0-9_-]{43}$/);
    expect(mode(dir)).toBe(0o700);
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://hookrun@db:5432/hookrun',
      REDIS_URL: 'redis://redis:6379',
      SECRETS_ENCRYPTION_KEY_FILE: keys.secretsEncryptionKey?.path,
      BOOTSTRAP_API_KEY_FILE: keys.bootstrapApiKey?.path,
    });
    expect(config.secretsEncryptionKey).toBe(keys.secretsEncryptionKey?.value);
    expect(config.bootstrapApiKey).toBe(keys.bootstrapApiKey?.value);
    for (const key of [keys.secretsEncryptionKey, keys.bootstrapApiKey]) expect(mode(key?.path ?? '')).toBe(0o600);
  });

  it('keeps the keys it finds, and makes only the missing ones', () => {
    const first = ensureKeyFiles(dir, ['secretsEncryptionKey']);
    const second = ensureKeyFiles(dir, ['secretsEncryptionKey', 'bootstrapApiKey']);

    expect(second.secretsEncryptionKey).toEqual({ ...first.secretsEncryptionKey, created: false });
    expect(second.bootstrapApiKey?.created).toBe(true);
    expect(readStoredKey(dir, 'bootstrapApiKey')).toBe(second.bootstrapApiKey?.value);
  });

  it('makes no file for a key it is not asked for', () => {
    ensureKeyFiles(dir, ['secretsEncryptionKey']);

    expect(readStoredKey(dir, 'bootstrapApiKey')).toBeNull();
  });

  it('refuses a stored file that holds no valid key, and keeps it', () => {
    const { bootstrapApiKey } = ensureKeyFiles(dir, ['bootstrapApiKey']);
    writeFileSync(bootstrapApiKey?.path ?? '', 'hr_short\n');

    expect(() => ensureKeyFiles(dir, ['bootstrapApiKey'])).toThrow(LocalSecretsError);
    expect(() => readStoredKey(dir, 'bootstrapApiKey')).toThrow(/does not hold a valid key/);
    expect(readFileSync(bootstrapApiKey?.path ?? '', 'utf8')).toBe('hr_short\n');
  });

  it('tightens a stored file that others can read', () => {
    const { secretsEncryptionKey } = ensureKeyFiles(dir, ['secretsEncryptionKey']);
    chmodSync(secretsEncryptionKey?.path ?? '', 0o644);

    ensureKeyFiles(dir, ['secretsEncryptionKey']);

    expect(mode(secretsEncryptionKey?.path ?? '')).toBe(0o600);
  });
});

describe('the _FILE variables', () => {
  let root: string;
  const base = { DATABASE_URL: 'postgres://hookrun@db:5432/hookrun', REDIS_URL: 'redis://redis:6379' };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'hookrun-key-files-'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('give way to the variable itself when it is set', () => {
    const { bootstrapApiKey, secretsEncryptionKey } = ensureKeyFiles(root, ['bootstrapApiKey', 'secretsEncryptionKey']);
    const own = `hr_${'a'.repeat(43)}`;

    const config = loadConfig({
      ...base,
      SECRETS_ENCRYPTION_KEY_FILE: secretsEncryptionKey?.path,
      BOOTSTRAP_API_KEY: own,
      BOOTSTRAP_API_KEY_FILE: bootstrapApiKey?.path,
    });

    expect(config.bootstrapApiKey).toBe(own);
  });

  it('name the variable and the path of a file that cannot be read or is empty', () => {
    const empty = join(root, 'empty');
    writeFileSync(empty, '\n');

    expect(() => loadConfig({ ...base, SECRETS_ENCRYPTION_KEY_FILE: join(root, 'missing') })).toThrow(
      new ConfigError(`SECRETS_ENCRYPTION_KEY_FILE: cannot read ${join(root, 'missing')} (ENOENT)`),
    );
    expect(() => loadConfig({ ...base, SECRETS_ENCRYPTION_KEY_FILE: empty })).toThrow(
      new ConfigError(`SECRETS_ENCRYPTION_KEY_FILE: ${empty} is empty`),
    );
  });
});
