import { describe, expect, it } from '@jest/globals';

import { ConfigError, loadConfig, loadDatabaseUrl, loadReencryptionConfig, loadStartMode } from './app.config.js';

const BASE = {
  DATABASE_URL: 'postgres://hookrun@db.internal/hookrun',
  REDIS_URL: 'redis://redis.internal',
  SECRETS_ENCRYPTION_KEY: 'k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8',
};

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig: HTTP_STEP_ALLOWED_HOSTS', () => {
  it('takes host and host:port entries, IPv6 bracketed', () => {
    const config = loadConfig({ ...BASE, HTTP_STEP_ALLOWED_HOSTS: ' 127.0.0.1:8080, Hooks.Internal ,[::1]:9000,,' });

    expect(config.httpStepAllowedHosts).toEqual(['127.0.0.1:8080', 'hooks.internal', '[::1]:9000']);
  });

  it('refuses invalid entries at start-up, listing each problem with the other variables', () => {
    const message = problemsOf({
      HTTP_STEP_ALLOWED_HOSTS: '127.0.0.1:0,http://hooks.internal,ok.internal:443,[::1]:99999',
      PORT: 'x',
    });

    expect(message).toBe(
      [
        'Invalid configuration:',
        '  - PORT must be an integer from 0 to 65535',
        '  - HTTP_STEP_ALLOWED_HOSTS: "127.0.0.1:0": the port must be an integer from 1 to 65535',
        '  - HTTP_STEP_ALLOWED_HOSTS: "http://hooks.internal" must be a host or host:port (IPv6 as [::1] or [::1]:8080)',
        '  - HTTP_STEP_ALLOWED_HOSTS: "[::1]:99999": the port must be an integer from 1 to 65535',
      ].join('\n'),
    );
  });
});

describe('loadConfig: ports that http steps never reach through a bare allowed host', () => {
  it('are those of DATABASE_URL and REDIS_URL, 5432 and 6379 when a URL names no port', () => {
    expect(loadConfig(BASE).httpStepProtectedPorts).toEqual([5432, 6379]);
    expect(
      loadConfig({
        ...BASE,
        DATABASE_URL: 'postgresql://u:p@127.0.0.1:6543/db?sslmode=disable',
        REDIS_URL: 'rediss://:secret@127.0.0.1:16379/2',
      }).httpStepProtectedPorts,
    ).toEqual([6543, 16379]);
  });

  it('are the database port alone when the queue runs on PostgreSQL (embedded mode, its port filled in)', () => {
    const config = loadConfig(
      { ...BASE, DATABASE_URL: 'postgres://postgres@127.0.0.1:54329/hookrun', REDIS_URL: '' },
      { queueBackend: 'postgres' },
    );

    expect(config.httpStepProtectedPorts).toEqual([54329]);
  });
});

function refusal(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('loadConfig: RUN_RETENTION_DAYS', () => {
  it('keeps finished runs 30 days by default, takes 0 (forever) and 3 to 3650', () => {
    expect(loadConfig(BASE).runRetentionDays).toBe(30);
    for (const days of ['0', '3', '90', '3650']) {
      expect(loadConfig({ ...BASE, RUN_RETENTION_DAYS: ` ${days} ` }).runRetentionDays).toBe(Number(days));
    }
  });

  it('refuses 1 and 2 days (shorter than the 72-hour deduplication window), larger values and non-integers', () => {
    for (const days of ['1', '2', '3651', '-5', '7.5', '30d', '1e3']) {
      expect(problemsOf({ RUN_RETENTION_DAYS: days })).toBe(
        'Invalid configuration:\n  - RUN_RETENTION_DAYS must be 0 (keep forever) or an integer from 3 to 3650',
      );
    }
  });
});

describe('loadStartMode', () => {
  it('refuses an unknown LOG_LEVEL as a configuration problem (pino would throw its own error)', () => {
    expect(refusal(() => loadStartMode({ ...BASE, LOG_LEVEL: 'verbose' }))).toBe(
      'Invalid configuration:\n  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    );
    expect(refusal(() => loadConfig({ ...BASE, LOG_LEVEL: 'verbose' }))).toContain('LOG_LEVEL must be one of');
  });

  it('takes the log level, info by default, and the embedded mode when neither URL is set', () => {
    expect(loadStartMode(BASE)).toEqual({ logLevel: 'info', embedded: false });
    expect(loadStartMode({ LOG_LEVEL: ' debug ', DATABASE_URL: ' ', REDIS_URL: '' })).toEqual({
      logLevel: 'debug',
      embedded: true,
    });
  });

  it('refuses one URL without the other, and a separate role without shared services', () => {
    expect(refusal(() => loadStartMode({ DATABASE_URL: BASE.DATABASE_URL }))).toBe(
      'Set both DATABASE_URL and REDIS_URL, or neither to run with an embedded PostgreSQL',
    );
    for (const [env, role] of [
      [{}, 'worker'],
      [{ HOOKRUN_ROLE: 'api' }, undefined],
    ] as const) {
      expect(refusal(() => loadStartMode(env, role))).toBe(
        'Separate api and worker processes need DATABASE_URL and REDIS_URL (shared services)',
      );
    }
    expect(loadStartMode({ HOOKRUN_ROLE: 'all' }, 'all').embedded).toBe(true);
  });
});

describe("the commands' loaders", () => {
  it('loadDatabaseUrl wants a postgres:// URL', () => {
    expect(loadDatabaseUrl({ DATABASE_URL: ` ${BASE.DATABASE_URL} ` })).toBe(BASE.DATABASE_URL);
    expect(refusal(() => loadDatabaseUrl({}))).toBe('Invalid configuration:\n  - DATABASE_URL is required');
    expect(refusal(() => loadDatabaseUrl({ DATABASE_URL: 'mysql://x' }))).toContain('a postgres:// URL');
  });

  it('loadReencryptionConfig parses the keyring, and names the variable, never the value, when it cannot', () => {
    const { databaseUrl, keyring } = loadReencryptionConfig(BASE);
    expect(databaseUrl).toBe(BASE.DATABASE_URL);
    expect(keyring.map((key) => key.id)).toEqual(['k1']);
    const message = refusal(() =>
      loadReencryptionConfig({ DATABASE_URL: BASE.DATABASE_URL, SECRETS_ENCRYPTION_KEY: 'not a key' }),
    );
    expect(message).toContain('SECRETS_ENCRYPTION_KEY');
    expect(message).not.toContain('not a key');
  });
});
