import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Made once and kept: a new encryption key would make stored secrets unreadable, a new API key lock the user out. */
export interface LocalSecrets {
  secretsEncryptionKey: string;
  bootstrapApiKey: string;
  created: boolean;
}

export class LocalSecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalSecretsError';
  }
}

const FILE_NAME = 'secrets.json';
const ENCRYPTION_KEY = /^[A-Za-z0-9_-]{43}$/;
const API_KEY = /^hr_[A-Za-z0-9_-]{43}$/;

export function loadOrCreateLocalSecrets(dir: string): LocalSecrets {
  const directory = resolve(dir);
  const file = join(directory, FILE_NAME);
  ensurePrivateDirectory(directory);
  const existing = readSecrets(file);
  if (existing) return { ...existing, created: false };

  const generated = {
    secretsEncryptionKey: generateEncryptionKey(),
    bootstrapApiKey: generateApiKey(),
  };
  if (createFileOnce(file, `${JSON.stringify(generated, null, 2)}\n`)) return { ...generated, created: true };
  const winner = readSecrets(file);
  if (!winner) throw new LocalSecretsError(`${file} was removed while it was being created`);
  return { ...winner, created: false };
}

export const generateEncryptionKey = (): string => randomBytes(32).toString('base64url');
export const generateApiKey = (): string => `hr_${randomBytes(32).toString('base64url')}`;

/** True when this call created `file`. Linked into place: of two processes exactly one wins, none reads half a file. */
export function createFileOnce(file: string, content: string): boolean {
  const temporary = `${file}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, content, { mode: 0o600 });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    unlinkSync(temporary);
  }
}

/** Parents get the default mode: a 0700 `.data` would keep the `postgres` user out of `.data/postgres`. */
export function ensurePrivateDirectory(directory: string): void {
  mkdirSync(dirname(directory), { recursive: true });
  try {
    mkdirSync(directory, { mode: 0o700 });
    chmodSync(directory, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!statSync(directory).isDirectory()) throw new LocalSecretsError(`${directory} exists and is not a directory`);
  }
}

function readSecrets(file: string): Omit<LocalSecrets, 'created'> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const problem = (why: string): LocalSecretsError =>
    new LocalSecretsError(
      `${file} is corrupt (${why}). Restore it from a backup, or delete it to generate new secrets: ` +
        'trigger secrets stored with the old key can then no longer be decrypted, and the old API key stops working.',
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw problem('not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw problem('not a JSON object');
  const { secretsEncryptionKey, bootstrapApiKey } = parsed as Record<string, unknown>;
  if (typeof secretsEncryptionKey !== 'string' || !ENCRYPTION_KEY.test(secretsEncryptionKey)) {
    throw problem('secretsEncryptionKey must be 32 bytes as 43 base64url characters');
  }
  if (typeof bootstrapApiKey !== 'string' || !API_KEY.test(bootstrapApiKey)) {
    throw problem('bootstrapApiKey must be "hr_" and 43 base64url characters');
  }
  // Copied or restored files often come back world-readable.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return { secretsEncryptionKey, bootstrapApiKey };
}
