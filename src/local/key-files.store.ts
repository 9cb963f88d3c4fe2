import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { parseKeyring } from '../config/keyring.parser.js';
import {
  createFileOnce,
  ensurePrivateDirectory,
  generateApiKey,
  generateEncryptionKey,
  LocalSecretsError,
} from './local-secrets.store.js';

/** A `docker compose up` installation's keys, read through the `_FILE` variables; made once, never replaced. */
const KEY_FILE_NAMES = {
  secretsEncryptionKey: 'secrets-encryption-key',
  bootstrapApiKey: 'bootstrap-api-key',
} as const;

export type KeyName = keyof typeof KEY_FILE_NAMES;

export interface KeyFile {
  path: string;
  value: string;
  created: boolean;
}

// Not `k1`: an installation on docker-compose.yml's former fixed key (a `k1`) can list both while it re-encrypts.
const GENERATED_KEY_ID = 'gen1';

const MAKE: Record<KeyName, () => string> = {
  secretsEncryptionKey: () => `${GENERATED_KEY_ID}:${generateEncryptionKey()}`,
  bootstrapApiKey: generateApiKey,
};

const CHECK: Record<KeyName, (value: string) => string | null> = {
  secretsEncryptionKey: (value) => {
    try {
      parseKeyring(value);
      return null;
    } catch (error) {
      return (error as Error).message;
    }
  },
  bootstrapApiKey: (value) =>
    /^hr_[A-Za-z0-9_-]{16,}$/.test(value) ? null : 'an API key is "hr_" and at least 16 base64url characters',
};

export function ensureKeyFiles(dir: string, names: readonly KeyName[]): Partial<Record<KeyName, KeyFile>> {
  const directory = resolve(dir);
  ensurePrivateDirectory(directory);
  return Object.fromEntries(
    names.map((name) => {
      const path = join(directory, KEY_FILE_NAMES[name]);
      const created = createFileOnce(path, `${MAKE[name]()}\n`);
      return [name, { path, value: readKeyFile(path, name), created }];
    }),
  );
}

export function readStoredKey(dir: string, name: KeyName): string | null {
  const path = join(resolve(dir), KEY_FILE_NAMES[name]);
  try {
    return readKeyFile(path, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function readKeyFile(path: string, name: KeyName): string {
  const value = readFileSync(path, 'utf8').trim();
  const problem = CHECK[name](value);
  if (problem) {
    throw new LocalSecretsError(
      `${path} does not hold a valid key (${problem}). Restore it from a backup, or delete it to make a new one` +
        (name === 'secretsEncryptionKey' ? ': trigger secrets stored with the old key can then no longer be read' : ''),
    );
  }
  // Copied or restored files often come back world-readable.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return value;
}
