import { describe, expect, it } from '@jest/globals';

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  ConfigError,
  loadConfig,
  loadDatabaseUrl,
  loadReencryptionConfig,
  loadStartMode,
  queuePrefix,
} from './app.config.js';

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

describe('loadConfig: REDIS_CLUSTER_NODES', () => {
  const CLUSTER = {
    ...BASE,
    REDIS_URL: '',
    REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001 ,[fd00::3]:7002,',
  };

  it('takes host:port entries (IPv6 bracketed) instead of REDIS_URL, and protects their ports from http steps', () => {
    const config = loadConfig(CLUSTER);

    expect(config.redisUrl).toBeNull();
    expect(config.redisCluster).toEqual({
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b.internal', port: 7001 },
        { host: 'fd00::3', port: 7002 },
      ],
      username: null,
      password: null,
      tls: false,
    });
    expect(config.httpStepProtectedPorts).toEqual([5432, 7000, 7001, 7002]);
    expect(loadConfig(BASE).redisCluster).toBeNull();
  });

  it('takes a username, a password (or its _FILE) and TLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrun-config-'));
    try {
      writeFileSync(join(dir, 'password'), 'from-file\n');
      const config = loadConfig({
        ...CLUSTER,
        REDIS_CLUSTER_USERNAME: 'hookrun',
        REDIS_CLUSTER_PASSWORD_FILE: join(dir, 'password'),
        REDIS_CLUSTER_TLS: 'true',
      });

      expect(config.redisCluster).toEqual(
        expect.objectContaining({ username: 'hookrun', password: 'from-file', tls: true }),
      );
      expect(loadConfig({ ...CLUSTER, REDIS_CLUSTER_PASSWORD: 'given' }).redisCluster?.password).toBe('given');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a malformed node list, naming each bad entry, with the other problems', () => {
    const message = problemsOf({
      REDIS_URL: '',
      REDIS_CLUSTER_NODES: 'redis://10.0.0.1:7000,10.0.0.2,10.0.0.3:70000,ok.internal:7003,::1:7004',
      REDIS_CLUSTER_TLS: 'yes',
    });

    expect(message).toBe(
      [
        'Invalid configuration:',
        '  - REDIS_CLUSTER_NODES: "redis://10.0.0.1:7000" must be host:port (IPv6 as [::1]:7000), with no redis:// before it',
        '  - REDIS_CLUSTER_NODES: "10.0.0.2" must be host:port (IPv6 as [::1]:7000), with no redis:// before it',
        '  - REDIS_CLUSTER_NODES: "10.0.0.3:70000": the port must be an integer from 1 to 65535',
        '  - REDIS_CLUSTER_NODES: "::1:7004" must be host:port (IPv6 as [::1]:7000), with no redis:// before it',
        '  - REDIS_CLUSTER_TLS must be one of true, false',
      ].join('\n'),
    );
    expect(problemsOf({ REDIS_URL: '', REDIS_CLUSTER_NODES: ' , ' })).toBe(
      'Invalid configuration:\n  - REDIS_CLUSTER_NODES must list host:port entries, separated by commas',
    );
  });

  it('refuses REDIS_URL and REDIS_CLUSTER_NODES together', () => {
    expect(problemsOf({ REDIS_CLUSTER_NODES: '10.0.0.1:7000' })).toBe(
      'Invalid configuration:\n  - Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
  });

  it('puts the queue prefix in a hash tag, so that every key of the queue is in one slot', () => {
    expect(loadConfig(CLUSTER).queuePrefix).toBe('{hookrun}');
    expect(loadConfig({ ...CLUSTER, QUEUE_PREFIX: 'tenant-a' }).queuePrefix).toBe('{tenant-a}');
    expect(loadConfig({ ...CLUSTER, QUEUE_PREFIX: '{tenant-a}' }).queuePrefix).toBe('{tenant-a}');
    expect(loadConfig({ ...BASE, QUEUE_PREFIX: 'tenant-a' }).queuePrefix).toBe('tenant-a');
  });

  it('takes a hash tag where Redis sees one: between the first { and the first } after it, not empty', () => {
    for (const prefix of ['{a}', 'app{a}', 'app{a}:x', 'a{b{c}', '{a}{b}'])
      expect(queuePrefix(prefix, true)).toBe(prefix);
    for (const prefix of ['a', 'a{}b', '{}{a}', 'a}b{', 'a{b']) expect(queuePrefix(prefix, true)).toBe(`{${prefix}}`);
    expect(queuePrefix('a{}b', false)).toBe('a{}b');
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

describe('loadConfig: metrics', () => {
  it('leaves /metrics open and without workflow labels by default', () => {
    const config = loadConfig(BASE);
    expect(config.metricsToken).toBeNull();
    expect(config.metricsWorkflowLabels).toBe(false);
  });

  it('takes METRICS_TOKEN (trimmed, or from METRICS_TOKEN_FILE) and METRICS_WORKFLOW_LABELS=true', () => {
    const config = loadConfig({ ...BASE, METRICS_TOKEN: ' scrape-me-0123456789 ', METRICS_WORKFLOW_LABELS: 'true' });
    expect(config.metricsToken).toBe('scrape-me-0123456789');
    expect(config.metricsWorkflowLabels).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'hookrun-metrics-'));
    try {
      writeFileSync(join(dir, 'token'), 'from-a-file-0123456789\n');
      expect(loadConfig({ ...BASE, METRICS_TOKEN_FILE: join(dir, 'token') }).metricsToken).toBe(
        'from-a-file-0123456789',
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('refuses a short token, one a header cannot carry, and a METRICS_WORKFLOW_LABELS other than true/false', () => {
    for (const token of ['short', 'has a space in it 0123', 'caf\u00e9-0123456789abcdef']) {
      expect(problemsOf({ METRICS_TOKEN: token })).toBe(
        'Invalid configuration:\n  - METRICS_TOKEN must be 16 to 512 printable ASCII characters without spaces',
      );
    }
    expect(problemsOf({ METRICS_WORKFLOW_LABELS: 'yes' })).toBe(
      'Invalid configuration:\n  - METRICS_WORKFLOW_LABELS must be one of true, false',
    );
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
    const repeat = { burst: 5, intervalMs: 10_000 };
    expect(loadStartMode(BASE)).toEqual({ logLevel: 'info', logFormat: 'json', logRepeat: repeat, embedded: false });
    expect(loadStartMode({ LOG_LEVEL: ' debug ', DATABASE_URL: ' ', REDIS_URL: '' })).toEqual({
      logLevel: 'debug',
      logFormat: 'json',
      logRepeat: repeat,
      embedded: true,
    });
  });

  it('logs readable lines at a terminal in development, JSON elsewhere, and takes the flood bounds', () => {
    expect(loadStartMode(BASE, undefined, true).logFormat).toBe('pretty');
    expect(loadStartMode({ ...BASE, NODE_ENV: 'production' }, undefined, true).logFormat).toBe('json');
    expect(loadStartMode({ ...BASE, LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadStartMode({ ...BASE, LOG_REPEAT_BURST: '20', LOG_REPEAT_INTERVAL_MS: '60000' }).logRepeat).toEqual({
      burst: 20,
      intervalMs: 60_000,
    });
    expect(refusal(() => loadStartMode({ ...BASE, LOG_FORMAT: 'xml', LOG_REPEAT_BURST: '0' }))).toBe(
      'Invalid configuration:\n  - LOG_FORMAT must be one of json, pretty\n  - LOG_REPEAT_BURST must be an integer from 1 to 10000',
    );
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

  it('takes REDIS_CLUSTER_NODES for REDIS_URL, with DATABASE_URL, and refuses both in one line', () => {
    const cluster = { DATABASE_URL: BASE.DATABASE_URL, REDIS_CLUSTER_NODES: '10.0.0.1:7000' };
    expect(loadStartMode(cluster, 'worker')).toEqual(expect.objectContaining({ logLevel: 'info', embedded: false }));
    expect(refusal(() => loadStartMode({ ...cluster, REDIS_URL: BASE.REDIS_URL }))).toBe(
      'Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
    );
    expect(refusal(() => loadStartMode({ REDIS_CLUSTER_NODES: '10.0.0.1:7000' }))).toBe(
      'REDIS_CLUSTER_NODES needs DATABASE_URL (shared services)',
    );
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

describe('loadConfig: the instance-wide notify endpoint (NOTIFY_*)', () => {
  const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('is off without NOTIFY_URL, and sends run.failed by default with it', () => {
    expect(loadConfig(BASE).notifyInstance).toBeNull();
    expect(
      loadConfig({ ...BASE, NOTIFY_URL: 'https://ops.example.com/hookrun', NOTIFY_SECRET: SECRET }).notifyInstance,
    ).toEqual({
      url: 'https://ops.example.com/hookrun',
      events: ['run.failed'],
      secret: SECRET,
    });
  });

  it('takes a comma-separated NOTIFY_EVENTS and the secret from NOTIFY_SECRET_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookrun-notify-'));
    try {
      writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
      const config = loadConfig({
        ...BASE,
        NOTIFY_URL: 'http://ops.internal/hooks',
        NOTIFY_EVENTS: ' run.cancelled, run.completed ',
        NOTIFY_SECRET_FILE: join(dir, 'secret'),
      });
      expect(config.notifyInstance).toEqual({
        url: 'http://ops.internal/hooks',
        events: ['run.completed', 'run.cancelled'],
        secret: SECRET,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses what it cannot send or sign with, saying why', () => {
    expect(problemsOf({ NOTIFY_URL: 'ftp://ops.example.com/', NOTIFY_EVENTS: 'run.failed,run.started' })).toBe(
      [
        'Invalid configuration:',
        '  - NOTIFY_URL must use https: or http:, not "ftp:"',
        '  - NOTIFY_EVENTS has unknown event "run.started" (known events: run.failed, run.completed, run.cancelled)',
        '  - NOTIFY_URL needs NOTIFY_SECRET: a signing secret "whsec_" + base64 (e.g. whsec_$(openssl rand -base64 32))',
      ].join('\n'),
    );
    expect(problemsOf({ NOTIFY_URL: 'https://ops.example.com/', NOTIFY_SECRET: 'whsec_c2hvcnQ=' })).toContain(
      'NOTIFY_SECRET must be "whsec_" followed by the base64 of at least 24 bytes',
    );
    expect(problemsOf({ NOTIFY_URL: 'https://ops.example.com/', NOTIFY_SECRET: 'not-a-secret' })).toContain(
      'NOTIFY_SECRET must be "whsec_"',
    );
    expect(problemsOf({ NOTIFY_SECRET: SECRET })).toContain('NOTIFY_SECRET and NOTIFY_EVENTS need NOTIFY_URL');
    expect(problemsOf({ NOTIFY_RETRY_BASE_MS: '0' })).toContain(
      'NOTIFY_RETRY_BASE_MS must be an integer from 1 to 3600000',
    );
  });

  it('takes NOTIFY_RETRY_BASE_MS and NOTIFY_TIMEOUT_MS, 5 s and 10 s by default', () => {
    expect(loadConfig(BASE)).toMatchObject({ notifyRetryBaseMs: 5000, notifyTimeoutMs: 10_000 });
    expect(loadConfig({ ...BASE, NOTIFY_RETRY_BASE_MS: '50', NOTIFY_TIMEOUT_MS: '2000' })).toMatchObject({
      notifyRetryBaseMs: 50,
      notifyTimeoutMs: 2000,
    });
  });
});
