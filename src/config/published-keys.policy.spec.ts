import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { parseKeyring } from './keyring.parser.js';
import { ConfigError, loadConfig } from './app.config.js';

/**
 * Every key-shaped value in the repository's files must be refused with NODE_ENV=production, so that a key
 * added to a README example, docker-compose.yml, a test or bench/ fails here until published-keys.policy.ts lists it.
 */
const root = join(import.meta.dirname, '..', '..');

interface Found {
  variable: 'SECRETS_ENCRYPTION_KEY' | 'BOOTSTRAP_API_KEY';
  value: string;
  where: string;
}

/** `hr_` API keys of the accepted shape, anywhere. */
const API_KEY = /hr_[A-Za-z0-9_-]{16,}/g;
/** Keyring entries `id:key`, anywhere (the key as 64 hex characters or 43 base64/base64url ones). */
const KEYRING_ENTRY =
  /(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{1,32}:([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)(?![A-Za-z0-9+/=_-])/g;
/** Literal values given to either variable: `NAME=value`, `NAME: value`, `NAME: ${NAME:-value}`, quoted or not. */
const ASSIGNED =
  /\b(SECRETS_ENCRYPTION_KEY|BOOTSTRAP_API_KEY)\b['"]?\s*[:=]\s*(?:\$\{[A-Za-z_]+:-)?['"`]?([^\s'"`},;)]+)/g;

const isEncryptionKey = (value: string): boolean => {
  try {
    return parseKeyring(value).length > 0;
  } catch {
    return false;
  }
};

/** The files git tracks or would add (not the ignored ones), so that a new file is scanned before its commit. */
function repositoryFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
  });
  return [...new Set(listed.split('\0').filter(Boolean))];
}

function keysIn(file: string): Found[] {
  let text: string;
  try {
    text = readFileSync(join(root, file), 'utf8');
  } catch {
    return []; // deleted in the working tree
  }
  const found: Found[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `${file}:${index + 1}`;
    for (const [value] of line.matchAll(API_KEY)) found.push({ variable: 'BOOTSTRAP_API_KEY', value, where });
    for (const [, key] of line.matchAll(KEYRING_ENTRY)) {
      if (isEncryptionKey(key)) found.push({ variable: 'SECRETS_ENCRYPTION_KEY', value: key, where });
    }
    for (const [, variable, value] of line.matchAll(ASSIGNED)) {
      if (variable === 'SECRETS_ENCRYPTION_KEY' && isEncryptionKey(value)) {
        found.push({ variable, value, where });
      }
    }
  });
  return found;
}

function publishedKeyHash(variable: Found['variable'], value: string): string {
  const hashed = variable === 'BOOTSTRAP_API_KEY' ? value : parseKeyring(value)[0].key;
  return createHash('sha256').update(hashed).digest('hex');
}

const production = (keys: { SECRETS_ENCRYPTION_KEY?: string; BOOTSTRAP_API_KEY?: string }) => ({
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://hookrun@db:5432/hookrun',
  REDIS_URL: 'redis://redis:6379',
  SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  BOOTSTRAP_API_KEY: `hr_${randomBytes(32).toString('base64url')}`,
  ...keys,
});

/** The problem loadConfig reports for these keys, or null when it accepts them. */
function refusal(env: Record<string, string>): string | null {
  try {
    loadConfig(env);
    return null;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
}

describe('keys published in the repository', () => {
  const files = repositoryFiles();
  const found = files.flatMap(keysIn);

  it('are found by the scan (it reads the tracked files and knows their key shapes)', () => {
    expect(files).toEqual(expect.arrayContaining(['README.md', 'docker-compose.yml', 'test/support/env.ts']));
    const where = found.map((key) => `${key.variable} in ${key.where.replace(/:\d+$/, '')}`);
    expect(where).toEqual(
      expect.arrayContaining([
        'SECRETS_ENCRYPTION_KEY in test/support/env.ts',
        'BOOTSTRAP_API_KEY in test/support/env.ts',
        'BOOTSTRAP_API_KEY in src/modules/api-keys/dto/api-key.dto.ts',
      ]),
    );
  });

  it('are each refused with NODE_ENV=production, by variable name and never by value', () => {
    const accepted = found
      .map((key) => ({ ...key, problem: refusal(production({ [key.variable]: key.value })) }))
      .filter(
        ({ variable, value, problem }) =>
          !problem?.includes(`${variable} is a key published`) || problem.includes(value),
      )
      // What to add to published-keys.policy.ts: the hash, never the value.
      .map(({ variable, value, where }) => `${variable} at ${where}: sha256 ${publishedKeyHash(variable, value)}`);

    expect(accepted).toEqual([]);
  });

  it('are refused in any spelling and in any entry of a keyring', () => {
    const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    for (const spelling of [bytes.toString('hex'), bytes.toString('base64'), `k7:${bytes.toString('base64url')}`]) {
      expect(refusal(production({ SECRETS_ENCRYPTION_KEY: spelling }))).toMatch(
        /^Invalid configuration:\n {2}- SECRETS_ENCRYPTION_KEY is a key published/,
      );
    }
    const ring = `k2:${randomBytes(32).toString('base64url')},k1:${bytes.toString('base64url')}`;
    expect(refusal(production({ SECRETS_ENCRYPTION_KEY: ring }))).toContain(
      'SECRETS_ENCRYPTION_KEY entry 2 is a key published',
    );
  });

  it('are accepted outside production, and keys of your own are accepted in production', () => {
    const published = found.find((key) => key.variable === 'SECRETS_ENCRYPTION_KEY');
    expect(published).toBeDefined();
    expect(
      refusal({ ...production({ SECRETS_ENCRYPTION_KEY: published?.value }), NODE_ENV: 'development' }),
    ).toBeNull();
    expect(refusal(production({}))).toBeNull();
  });
});
