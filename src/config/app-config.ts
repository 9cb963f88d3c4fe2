import { parseKeyring } from '../modules/secrets/secret-cipher.js';

/**
 * The one place that reads process.env: the environment is parsed and checked once at boot into a
 * typed, frozen AppConfig. Everything else receives AppConfig through injection.
 */
export type HookrunRole = 'all' | 'api' | 'worker';
/** Redis in production; BullMQ's PostgreSQL backend in the embedded mode (no DATABASE_URL, no REDIS_URL). */
export type QueueBackend = 'redis' | 'postgres';

export interface AppConfig {
  nodeEnv: string;
  role: HookrunRole;
  host: string;
  port: number;
  publicBaseUrl: string;
  databaseUrl: string;
  /** Null when the queue runs on PostgreSQL. */
  redisUrl: string | null;
  queueBackend: QueueBackend;
  secretsEncryptionKey: string;
  bootstrapApiKey: string | null;
  webhookMaxBodyBytes: number;
  /** Verified deliveries a second per trigger and process (bursts of twice that); 0 turns the limit off. */
  webhookRateLimitPerSecond: number;
  workerConcurrency: number;
  /** How often each process looks for unfinished runs that have no job in the queue; 0 turns it off. */
  reconcileIntervalMs: number;
  /** How long a worker's claim on a job lasts without renewal: after a crash, its runs resume this much later. */
  workerLockMs: number;
  /** How long a stopping worker lets its runs go on before it hands them back. */
  shutdownTimeoutMs: number;
  expressionTimeoutMs: number;
  /** Worker threads that evaluate JSONata, started as needed: an expression never blocks the event loop. */
  expressionThreads: number;
  /** Hosts that `http` steps may call although they resolve to private or loopback addresses. */
  httpStepAllowedHosts: string[];
  triggerCacheTtlMs: number;
  /** How long the webhook delivery log keeps a delivery before pruning it. */
  deliveryRetentionHours: number;
  logLevel: string;
  /** Key prefix of the queue's data, so that several hookrun installations can share one Redis. */
  queuePrefix: string;
}

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export interface ConfigOverrides {
  /** The role named on the command line, which wins over HOOKRUN_ROLE. */
  role?: string;
  queueBackend?: QueueBackend;
}

export function loadConfig(env: Env = process.env, overrides: ConfigOverrides = {}): AppConfig {
  const problems: string[] = [];
  const roleArgument = overrides.role;
  const queueBackend = overrides.queueBackend ?? 'redis';
  if (roleArgument !== undefined && !['all', 'api', 'worker'].includes(roleArgument)) {
    problems.push(`Unknown role "${roleArgument}": use api, worker or all`);
  }
  const port = int(env, 'PORT', 3000, 0, 65535, problems);
  const role =
    (roleArgument as HookrunRole | undefined) ??
    oneOf(env, 'HOOKRUN_ROLE', ['all', 'api', 'worker'] as const, 'all', problems);
  const databaseUrl = required(env, 'DATABASE_URL', problems, /^postgres(ql)?:\/\//, 'a postgres:// URL');
  const redisUrl =
    queueBackend === 'redis' ? required(env, 'REDIS_URL', problems, /^rediss?:\/\//, 'a redis:// URL') : null;
  const secretsEncryptionKey = required(env, 'SECRETS_ENCRYPTION_KEY', problems);
  if (secretsEncryptionKey) {
    try {
      parseKeyring(secretsEncryptionKey);
    } catch (error) {
      problems.push(`SECRETS_ENCRYPTION_KEY: ${(error as Error).message}`);
    }
  }
  const bootstrapApiKey = env.BOOTSTRAP_API_KEY?.trim() || null;
  if (bootstrapApiKey !== null && !/^hr_[A-Za-z0-9_-]{16,}$/.test(bootstrapApiKey)) {
    problems.push('BOOTSTRAP_API_KEY must be "hr_" followed by at least 16 base64url characters');
  }
  const config: AppConfig = {
    nodeEnv: env.NODE_ENV ?? 'development',
    role,
    host: env.HOST ?? '0.0.0.0',
    port,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl,
    redisUrl,
    queueBackend,
    secretsEncryptionKey,
    bootstrapApiKey,
    webhookMaxBodyBytes: int(env, 'WEBHOOK_MAX_BODY_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024, problems),
    webhookRateLimitPerSecond: int(env, 'WEBHOOK_RATE_LIMIT_PER_SECOND', 1000, 0, 1_000_000, problems),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 25, 1, 1000, problems),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 5000, 0, 3_600_000, problems),
    workerLockMs: int(env, 'WORKER_LOCK_MS', 30_000, 1000, 600_000, problems),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 5000, 0, 600_000, problems),
    expressionTimeoutMs: int(env, 'EXPRESSION_TIMEOUT_MS', 1000, 1, 60_000, problems),
    expressionThreads: int(env, 'EXPRESSION_THREADS', 2, 1, 64, problems),
    httpStepAllowedHosts: (env.HTTP_STEP_ALLOWED_HOSTS ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter(Boolean),
    triggerCacheTtlMs: int(env, 'TRIGGER_CACHE_TTL_MS', 5000, 0, 3_600_000, problems),
    deliveryRetentionHours: int(env, 'DELIVERY_RETENTION_HOURS', 168, 1, 87_600, problems),
    logLevel: oneOf(
      env,
      'LOG_LEVEL',
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
      'info',
      problems,
    ),
    queuePrefix: env.QUEUE_PREFIX?.trim() || 'hookrun',
  };
  if (problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
  return Object.freeze(config);
}

function required(env: Env, name: string, problems: string[], pattern?: RegExp, shape?: string): string {
  const value = env[name]?.trim();
  if (!value) {
    problems.push(`${name} is required`);
    return '';
  }
  if (pattern && !pattern.test(value)) problems.push(`${name} must be ${shape}`);
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be one of ${allowed.join(', ')}`);
    return fallback;
  }
  return raw as T;
}
