import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import {
  logMessages,
  PROJECT_ROOT,
  runHookrunToExit,
  startHookrun,
  type HookrunProcess,
} from '../support/processes.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { ensureTestDatabase } from '../support/test-database.js';

const run = promisify(execFile);
const compose = readFileSync(join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8');

/** The first capture of `pattern` in docker-compose.yml (there is no Docker here to run it). */
function fromCompose(pattern: RegExp): string {
  const match = pattern.exec(compose);
  if (!match) throw new Error(`docker-compose.yml has nothing matching ${pattern}`);
  return match[1];
}

/**
 * `docker compose up` without Docker: the `keys` service's command and the api container's key variables,
 * as docker-compose.yml writes them, with a temporary folder in place of the hookrun-keys volume.
 */
describe('docker compose keys', () => {
  const volumePath = fromCompose(/entrypoint: \["node", "dist\/cli\/keys\.command\.js", "([^"]+)"\]/);
  const volume = mkdtempSync(join(tmpdir(), 'hookrun-keys-volume-'));
  const inVolume = (path: string) => join(volume, path.slice(volumePath.length + 1));
  const keysCommand = (...args: string[]) =>
    run(process.execPath, [join(PROJECT_ROOT, 'dist', 'cli', 'keys.command.js'), volume, ...args], {
      env: { PATH: process.env.PATH ?? '', SECRETS_ENCRYPTION_KEY: '', BOOTSTRAP_API_KEY: '' },
    });
  let redis: OwnRedis;
  let api: HookrunProcess | undefined;

  beforeAll(async () => {
    await ensureTestDatabase();
    redis = await startOwnRedis();
  });

  afterAll(async () => {
    await api?.stop('SIGKILL');
    await redis?.stop();
    rmSync(volume, { recursive: true, force: true });
  });

  it('mounts one volume where the keys service writes and the api and workers read (read-only)', () => {
    expect(compose).toContain(`- hookrun-keys:${volumePath}\n`);
    expect(compose).toContain(`- hookrun-keys:${volumePath}:ro\n`);
    expect(fromCompose(/SECRETS_ENCRYPTION_KEY_FILE: (\S+)/)).toBe(`${volumePath}/secrets-encryption-key`);
    expect(fromCompose(/BOOTSTRAP_API_KEY_FILE: (\S+)/)).toBe(`${volumePath}/bootstrap-api-key`);
    expect(compose).toMatch(/keys:\n\s+condition: service_completed_successfully/);
    // A new volume takes the owner and mode of the image's folder: the node user's, closed to others.
    expect(dockerfile).toContain(`chown node:node ${volumePath} && chmod 0700 ${volumePath}`);
  });

  it('publishes the API on 127.0.0.1 unless told otherwise', () => {
    const ports = [...compose.matchAll(/^\s+- "([^"]*:3000)"$/gm)].map((match) => match[1]);
    expect(ports).toEqual(['${HOOKRUN_BIND_ADDRESS:-127.0.0.1}:3000:3000']);
  });

  it('makes the keys once, prints the API key only then, and hookrun starts on them in production', async () => {
    const first = await keysCommand();
    const apiKey = /^ {4}(hr_[A-Za-z0-9_-]{43})$/m.exec(first.stdout)?.[1];
    expect(apiKey).toBeDefined();
    const apiKeyFile = inVolume(fromCompose(/BOOTSTRAP_API_KEY_FILE: (\S+)/));
    const encryptionKeyFile = inVolume(fromCompose(/SECRETS_ENCRYPTION_KEY_FILE: (\S+)/));
    expect(readFileSync(apiKeyFile, 'utf8').trim()).toBe(apiKey);
    for (const file of [apiKeyFile, encryptionKeyFile]) expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = await keysCommand();
    expect(second.stdout).not.toContain(apiKey);
    expect(second.stdout).toContain('Using the keys already in');
    expect((await keysCommand('--print-api-key')).stdout).toBe(`${apiKey}\n`);

    // The api container's environment: NODE_ENV=production, the keys empty, their _FILE variables set.
    api = await startHookrun(['api'], {
      NODE_ENV: 'production',
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: redis.url,
      SECRETS_ENCRYPTION_KEY: '',
      SECRETS_ENCRYPTION_KEY_FILE: encryptionKeyFile,
      BOOTSTRAP_API_KEY: '',
      BOOTSTRAP_API_KEY_FILE: apiKeyFile,
    });
    const authorised = await fetch(`${api.baseUrl}/v1/api-keys`, { headers: { authorization: `Bearer ${apiKey}` } });
    expect(authorised.status).toBe(200);
    expect(api.output()).not.toContain(apiKey);
  });

  it("refuses the repository's keys in production with one line naming each variable, not its value", async () => {
    const result = await runHookrunToExit(
      ['api'],
      {
        NODE_ENV: 'production',
        DATABASE_URL: TEST_DATABASE_URL,
        REDIS_URL: redis.url,
        SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
        BOOTSTRAP_API_KEY: TEST_API_KEY,
      },
      { timeoutMs: 30_000 },
    );

    expect(result.code).toBe(1);
    const refusal = logMessages(result.output).find((m) => m.startsWith('hookrun cannot start:'));
    expect(refusal).toMatch(
      /^hookrun cannot start: Invalid configuration:\n {2}- SECRETS_ENCRYPTION_KEY is a key published/,
    );
    expect(refusal).toMatch(/\n {2}- BOOTSTRAP_API_KEY is a key published/);
    expect(result.output).not.toContain(TEST_API_KEY);
    expect(result.output).not.toContain(TEST_ENCRYPTION_KEY.slice(3));
  });
});
