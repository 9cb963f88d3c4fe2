import { readFileSync } from 'node:fs';

import {
  NOTIFY_EVENTS,
  notifyEventsProblem,
  notifyUrlProblem,
  parseAllowedHost,
  type NotifyEvent,
} from '../engine/index.js';
import { parseKeyring, type CipherKey } from './keyring.parser.js';
import { publishedKeyProblems } from './published-keys.policy.js';

// The one place that reads the environment; everything else receives AppConfig or what a loader returns.
export type HookrunRole = 'all' | 'api' | 'worker';
export type QueueBackend = 'redis' | 'postgres';

export interface AppConfig {
  nodeEnv: string;
  role: HookrunRole;
  host: string;
  port: number;
  publicBaseUrl: string;
  databaseUrl: string;
  /** One Redis; null with REDIS_CLUSTER_NODES (or the PostgreSQL queue). */
  redisUrl: string | null;
  redisCluster: RedisClusterConfig | null;
  queueBackend: QueueBackend;
  secretsEncryptionKey: string;
  bootstrapApiKey: string | null;
  webhookMaxBodyBytes: number;
  /** Per trigger and process (bursts of twice that); 0 turns the limit off. */
  webhookRateLimitPerSecond: number;
  workerConcurrency: number;
  reconcileIntervalMs: number;
  workerLockMs: number;
  shutdownTimeoutMs: number;
  expressionTimeoutMs: number;
  expressionThreads: number;
  /** A bare `host` opens every port but `httpStepProtectedPorts`. */
  httpStepAllowedHosts: string[];
  httpStepProtectedPorts: number[];
  triggerCacheTtlMs: number;
  /** Requests one process lets wait on a run's end at once (`?wait=`); past it they answer 202 at once. */
  waitMaxWaiters: number;
  deliveryRetentionHours: number;
  /** Finished runs older than this are deleted, unless their workflow sets its own; 0 keeps them forever. */
  runRetentionDays: number;
  /** When set, `GET /metrics` takes `Authorization: Bearer <token>`; null leaves it open. */
  metricsToken: string | null;
  /** Runs' metrics carry a `workflow_id` label (one series per workflow): off by default to bound cardinality. */
  metricsWorkflowLabels: boolean;
  logLevel: LogLevel;
  /** The instance-wide endpoint (NOTIFY_URL, NOTIFY_EVENTS, NOTIFY_SECRET): every workflow's runs reach it. */
  notifyInstance: InstanceNotifyEndpoint | null;
  /** The first retry of a notification waits about this long; each next one 3 times longer (capped at 4 h). */
  notifyRetryBaseMs: number;
  notifyTimeoutMs: number;
  /** With a Redis Cluster, always holds a hash tag (`{hookrun}`), so that every key of the queue is in one slot. */
  queuePrefix: string;
}

export interface InstanceNotifyEndpoint {
  url: string;
  events: NotifyEvent[];
  /** `whsec_` + base64 of at least 24 bytes, given by the operator. */
  secret: string;
}

export interface RedisClusterNode {
  host: string;
  port: number;
}

export interface RedisClusterConfig {
  /** Where the client starts: it learns the others (and who holds which slot) from them. */
  nodes: RedisClusterNode[];
  username: string | null;
  password: string | null;
  tls: boolean;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const APP_CONFIG = Symbol('APP_CONFIG');

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

export interface ConfigOverrides {
  role?: string;
  queueBackend?: QueueBackend;
}

/** Docker's convention for secrets: `<NAME>_FILE` names a file that holds the value. */
const FILE_VARIABLES = [
  'SECRETS_ENCRYPTION_KEY',
  'BOOTSTRAP_API_KEY',
  'REDIS_CLUSTER_PASSWORD',
  'METRICS_TOKEN',
  'NOTIFY_SECRET',
] as const;

export function withFileVariables(env: Env): Env {
  const resolved: Env = { ...env };
  for (const name of FILE_VARIABLES) {
    const path = env[`${name}_FILE`]?.trim();
    if (env[name]?.trim() || !path) continue;
    let value: string;
    try {
      value = readFileSync(path, 'utf8').trim();
    } catch (error) {
      const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      throw new ConfigError(`${name}_FILE: cannot read ${path} (${why})`);
    }
    if (!value) throw new ConfigError(`${name}_FILE: ${path} is empty`);
    resolved[name] = value;
  }
  return resolved;
}

export function loadConfig(environment: Env = process.env, overrides: ConfigOverrides = {}): AppConfig {
  const env = withFileVariables(environment);
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV ?? 'development';
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
  const redisCluster = queueBackend === 'redis' ? redisClusterConfig(env, problems) : null;
  if (redisCluster && env.REDIS_URL?.trim()) problems.push(BOTH_REDIS_VARIABLES);
  const redisUrl =
    queueBackend === 'redis' && !redisCluster
      ? required(env, 'REDIS_URL', problems, /^rediss?:\/\//, 'a redis:// URL')
      : null;
  const secretsEncryptionKey = required(env, 'SECRETS_ENCRYPTION_KEY', problems);
  let keyring: CipherKey[] = [];
  if (secretsEncryptionKey) {
    try {
      keyring = parseKeyring(secretsEncryptionKey);
    } catch (error) {
      problems.push(`SECRETS_ENCRYPTION_KEY: ${(error as Error).message}`);
    }
  }
  const bootstrapApiKey = env.BOOTSTRAP_API_KEY?.trim() || null;
  if (bootstrapApiKey !== null && !/^hr_[A-Za-z0-9_-]{16,}$/.test(bootstrapApiKey)) {
    problems.push('BOOTSTRAP_API_KEY must be "hr_" followed by at least 16 base64url characters');
  }
  if (nodeEnv === 'production') problems.push(...publishedKeyProblems(keyring, bootstrapApiKey));
  const metricsToken = env.METRICS_TOKEN?.trim() || null;
  // It travels in a header: characters a header cannot carry would make a token no scraper can send.
  if (metricsToken !== null && !/^[\x21-\x7e]{16,512}$/.test(metricsToken)) {
    problems.push('METRICS_TOKEN must be 16 to 512 printable ASCII characters without spaces');
  }
  const config: AppConfig = {
    nodeEnv,
    role,
    host: env.HOST ?? '0.0.0.0',
    port,
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    databaseUrl,
    redisUrl,
    redisCluster,
    queueBackend,
    secretsEncryptionKey,
    bootstrapApiKey,
    webhookMaxBodyBytes: int(env, 'WEBHOOK_MAX_BODY_BYTES', 1024 * 1024, 1, 64 * 1024 * 1024, problems),
    webhookRateLimitPerSecond: int(env, 'WEBHOOK_RATE_LIMIT_PER_SECOND', 1000, 0, 1_000_000, problems),
    workerConcurrency: int(env, 'WORKER_CONCURRENCY', 25, 1, 1000, problems),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', 5000, 0, 3_600_000, problems),
    workerLockMs: int(env, 'WORKER_LOCK_MS', 5000, 1000, 600_000, problems),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 5000, 0, 600_000, problems),
    expressionTimeoutMs: int(env, 'EXPRESSION_TIMEOUT_MS', 1000, 1, 60_000, problems),
    expressionThreads: int(env, 'EXPRESSION_THREADS', 2, 1, 64, problems),
    httpStepAllowedHosts: allowedHosts(env, problems),
    httpStepProtectedPorts: [
      ...new Set(
        [
          servicePort(databaseUrl, 5432),
          servicePort(redisUrl, 6379),
          ...(redisCluster?.nodes.map((node) => node.port) ?? []),
        ].filter((port) => port !== null),
      ),
    ],
    triggerCacheTtlMs: int(env, 'TRIGGER_CACHE_TTL_MS', 5000, 0, 3_600_000, problems),
    waitMaxWaiters: int(env, 'WAIT_MAX_WAITERS', 10_000, 0, 1_000_000, problems),
    deliveryRetentionHours: int(env, 'DELIVERY_RETENTION_HOURS', 168, 1, 87_600, problems),
    runRetentionDays: retentionDays(env, 'RUN_RETENTION_DAYS', 30, problems),
    metricsToken,
    metricsWorkflowLabels:
      oneOf(env, 'METRICS_WORKFLOW_LABELS', ['true', 'false'] as const, 'false', problems) === 'true',
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info', problems),
    notifyInstance: instanceNotifyEndpoint(env, problems),
    notifyRetryBaseMs: int(env, 'NOTIFY_RETRY_BASE_MS', 5000, 1, 3_600_000, problems),
    notifyTimeoutMs: int(env, 'NOTIFY_TIMEOUT_MS', 10_000, 100, 60_000, problems),
    queuePrefix: queuePrefix(env.QUEUE_PREFIX?.trim() || 'hookrun', redisCluster !== null),
  };
  refuseIfAny(problems);
  return Object.freeze(config);
}

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface StartMode {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Lines of one cause written per interval; the rest are summed up in one line with their count. */
  logRepeat: { burst: number; intervalMs: number };
  embedded: boolean;
}

/** How a process starts and logs, read before anything else. `interactive`: stdout is a terminal. */
export function loadStartMode(env: Env, roleArgument?: string, interactive = false): StartMode {
  const problems: string[] = [];
  const logLevel = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info', problems);
  // A person at a terminal in development reads lines; everything else (containers, pipes) gets JSON.
  const readable = interactive && env.NODE_ENV?.trim() !== 'production';
  const logFormat = oneOf(env, 'LOG_FORMAT', LOG_FORMATS, readable ? 'pretty' : 'json', problems);
  const logRepeat = {
    burst: int(env, 'LOG_REPEAT_BURST', 5, 1, 10_000, problems),
    intervalMs: int(env, 'LOG_REPEAT_INTERVAL_MS', 10_000, 100, 3_600_000, problems),
  };
  refuseIfAny(problems);
  const hasDatabase = Boolean(env.DATABASE_URL?.trim());
  const hasCluster = Boolean(env.REDIS_CLUSTER_NODES?.trim());
  if (hasCluster && env.REDIS_URL?.trim()) throw new ConfigError(BOTH_REDIS_VARIABLES);
  if (hasCluster && !hasDatabase) throw new ConfigError('REDIS_CLUSTER_NODES needs DATABASE_URL (shared services)');
  const hasRedis = Boolean(env.REDIS_URL?.trim()) || hasCluster;
  const embedded = !hasDatabase && !hasRedis;
  if (embedded && [roleArgument, env.HOOKRUN_ROLE?.trim()].some((role) => role === 'api' || role === 'worker')) {
    throw new ConfigError('Separate api and worker processes need DATABASE_URL and REDIS_URL (shared services)');
  }
  if (!embedded && (!hasDatabase || !hasRedis)) {
    throw new ConfigError('Set both DATABASE_URL and REDIS_URL, or neither to run with an embedded PostgreSQL');
  }
  return { logLevel, logFormat, logRepeat, embedded };
}

export function loadDatabaseUrl(env: Env): string {
  const problems: string[] = [];
  const databaseUrl = required(env, 'DATABASE_URL', problems, /^postgres(ql)?:\/\//, 'a postgres:// URL');
  refuseIfAny(problems);
  return databaseUrl;
}

export function loadReencryptionConfig(environment: Env): { databaseUrl: string; keyring: CipherKey[] } {
  const env = withFileVariables(environment);
  const problems: string[] = [];
  const databaseUrl = required(env, 'DATABASE_URL', problems, /^postgres(ql)?:\/\//, 'a postgres:// URL');
  const keys = required(env, 'SECRETS_ENCRYPTION_KEY', problems);
  let keyring: CipherKey[] = [];
  if (keys) {
    try {
      keyring = parseKeyring(keys);
    } catch (error) {
      problems.push(`SECRETS_ENCRYPTION_KEY: ${(error as Error).message}`);
    }
  }
  refuseIfAny(problems);
  return { databaseUrl, keyring };
}

/** Not through `_FILE`: the `keys` command makes the files. */
export function loadKeysFromEnvironment(env: Env): { secretsEncryptionKey?: string; bootstrapApiKey?: string } {
  return {
    secretsEncryptionKey: env.SECRETS_ENCRYPTION_KEY?.trim() || undefined,
    bootstrapApiKey: env.BOOTSTRAP_API_KEY?.trim() || undefined,
  };
}

const BOTH_REDIS_VARIABLES = 'Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both';

function redisClusterConfig(env: Env, problems: string[]): RedisClusterConfig | null {
  const list = env.REDIS_CLUSTER_NODES?.trim();
  if (!list) return null;
  const entries = list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) problems.push('REDIS_CLUSTER_NODES must list host:port entries, separated by commas');
  const nodes: RedisClusterNode[] = [];
  for (const entry of entries) {
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9._-]+)):(\d+)$/.exec(entry);
    const port = Number(match?.[3]);
    if (!match) {
      problems.push(
        `REDIS_CLUSTER_NODES: "${entry}" must be host:port (IPv6 as [::1]:7000), with no redis:// before it`,
      );
    } else if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`REDIS_CLUSTER_NODES: "${entry}": the port must be an integer from 1 to 65535`);
    } else {
      nodes.push({ host: match[1] ?? match[2], port });
    }
  }
  return {
    nodes,
    username: env.REDIS_CLUSTER_USERNAME?.trim() || null,
    password: env.REDIS_CLUSTER_PASSWORD?.trim() || null,
    tls: oneOf(env, 'REDIS_CLUSTER_TLS', ['true', 'false'] as const, 'false', problems) === 'true',
  };
}

/**
 * A Redis Cluster runs a script only on keys of one slot, and BullMQ's scripts touch several keys of the queue:
 * the prefix must carry a hash tag (`{...}`, the part of a key that picks its slot). One without is wrapped.
 */
export function queuePrefix(prefix: string, cluster: boolean): string {
  // Redis's rule: the tag is what lies between the first `{` and the first `}` after it, if that is not empty.
  return !cluster || /^[^{]*\{[^}]+\}/.test(prefix) ? prefix : `{${prefix}}`;
}

function refuseIfAny(problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
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

function allowedHosts(env: Env, problems: string[]): string[] {
  const entries = (env.HTTP_STEP_ALLOWED_HOSTS ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean);
  for (const entry of entries) {
    try {
      parseAllowedHost(entry);
    } catch (error) {
      problems.push(`HTTP_STEP_ALLOWED_HOSTS: ${(error as Error).message}`);
    }
  }
  return entries;
}

const WEBHOOK_SECRET = /^whsec_([A-Za-z0-9+/]+={0,2})$/;
const MIN_NOTIFY_SECRET_BYTES = 24;

function instanceNotifyEndpoint(env: Env, problems: string[]): InstanceNotifyEndpoint | null {
  const url = env.NOTIFY_URL?.trim();
  const secret = env.NOTIFY_SECRET?.trim();
  const eventList = env.NOTIFY_EVENTS?.trim();
  if (!url) {
    if (secret || eventList) problems.push('NOTIFY_SECRET and NOTIFY_EVENTS need NOTIFY_URL');
    return null;
  }
  const problemCount = problems.length;
  const urlProblem = notifyUrlProblem(url);
  if (urlProblem) problems.push(`NOTIFY_URL ${urlProblem}`);
  const events = (eventList || 'run.failed')
    .split(',')
    .map((event) => event.trim())
    .filter(Boolean);
  const eventsProblem = notifyEventsProblem(events);
  if (eventsProblem)
    problems.push(`NOTIFY_EVENTS ${eventsProblem.replace('a non-empty array of', 'a comma-separated list of')}`);
  const match = secret ? WEBHOOK_SECRET.exec(secret) : null;
  if (!secret) {
    problems.push(
      'NOTIFY_URL needs NOTIFY_SECRET: a signing secret "whsec_" + base64 (e.g. whsec_$(openssl rand -base64 32))',
    );
  } else if (!match || Buffer.from(match[1], 'base64').length < MIN_NOTIFY_SECRET_BYTES) {
    problems.push(`NOTIFY_SECRET must be "whsec_" followed by the base64 of at least ${MIN_NOTIFY_SECRET_BYTES} bytes`);
  }
  if (problems.length > problemCount) return null;
  return { url, events: NOTIFY_EVENTS.filter((event) => events.includes(event)), secret: secret as string };
}

function servicePort(url: string | null, fallback: number): number | null {
  if (!url) return null;
  try {
    const { port } = new URL(url);
    return port === '' ? fallback : Number(port);
  } catch {
    return null;
  }
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

/** The range a workflow's `runRetentionDays` takes too: runs hold the 72-hour deduplication keys. */
export const RUN_RETENTION_DAYS = { min: 3, max: 3650 } as const;

export function isRunRetentionDays(days: number): boolean {
  return days === 0 || (Number.isInteger(days) && days >= RUN_RETENTION_DAYS.min && days <= RUN_RETENTION_DAYS.max);
}

function retentionDays(env: Env, name: string, fallback: number, problems: string[]): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || !isRunRetentionDays(Number(raw))) {
    problems.push(
      `${name} must be 0 (keep forever) or an integer from ${RUN_RETENTION_DAYS.min} to ${RUN_RETENTION_DAYS.max}`,
    );
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
