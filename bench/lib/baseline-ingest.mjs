// What every baseline server does to accept a webhook, and nothing more: read the raw body, check the
// Standard Webhooks HMAC in constant time, parse the JSON once, one parameterised INSERT (deduplicated on
// the webhook id), one BullMQ add with the run id as jobId, answer 202. The servers differ only in the
// HTTP layer around it (bench/nest-baseline-server.mjs, bench/plain-node-server.mjs), so that their
// figures say what that layer costs.
//
// Environment: DATABASE_URL, REDIS_URL, QUEUE_PREFIX, BASELINE_SLUG, BASELINE_SECRET (whsec_...),
// BASELINE_TOLERANCE_SECONDS (default 300), PG_POOL_SIZE (default 20, as hookrun's pool).
import { createHmac, timingSafeEqual } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

const env = process.env;
const slug = env.BASELINE_SLUG ?? 'baseline';
const key = Buffer.from((env.BASELINE_SECRET ?? '').replace(/^whsec_/, ''), 'base64');
const toleranceSeconds = Number(env.BASELINE_TOLERANCE_SECONDS ?? 300);
const TABLE = 'bench_baseline_runs';
/** The same job options as hookrun's runs queue. */
const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};
export const MAX_BODY_BYTES = 1024 * 1024;

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.PG_POOL_SIZE ?? 20) });
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('baseline-runs', { connection: redis, prefix: env.QUEUE_PREFIX ?? 'hookrun-baseline' });

export class HttpError extends Error {
  /** @param {number} status @param {string} code */
  constructor(status, code) {
    super(code);
    this.status = status;
    this.code = code;
  }
}

/**
 * The whole ingest: verify, parse, insert, enqueue.
 * @param {string} requestSlug
 * @param {import('node:http').IncomingHttpHeaders} headers
 * @param {Buffer} raw
 * @returns {Promise<{ runId: string, replayed: boolean }>}
 */
export async function ingest(requestSlug, headers, raw) {
  if (requestSlug !== slug) throw new HttpError(404, 'trigger_not_found');
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') {
    throw new HttpError(401, 'missing_signature');
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new HttpError(401, 'timestamp_out_of_tolerance');
  }
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(raw).digest();
  let verified = false;
  for (const part of signatures.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const given = Buffer.from(part.slice(comma + 1), 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) verified = true;
  }
  if (!verified) throw new HttpError(401, 'invalid_signature');
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(headers['content-type'] ?? '')) {
    throw new HttpError(415, 'unsupported_media_type');
  }
  const text = raw.toString('utf8');
  try {
    JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json');
  }
  const runId = uuidv7();
  const inserted = await pool.query(
    `INSERT INTO ${TABLE} (id, webhook_id, status, input) VALUES ($1, $2, 'queued', $3::jsonb)
     ON CONFLICT (webhook_id) DO NOTHING RETURNING id`,
    [runId, id, text],
  );
  if (inserted.rowCount === 0) {
    const existing = await pool.query(`SELECT id FROM ${TABLE} WHERE webhook_id = $1`, [id]);
    return { runId: existing.rows[0].id, replayed: true };
  }
  await queue.add('run', { runId }, { ...JOB_OPTIONS, jobId: runId });
  return { runId, replayed: false };
}

/** @param {unknown} error @returns {{ status: number, body: { error: { status: number, code: string, message: string } } }} */
export function errorAnswer(error) {
  const status = error instanceof HttpError ? error.status : 503;
  const code = error instanceof HttpError ? error.code : 'unavailable';
  return { status, body: { error: { status, code, message: code } } };
}

/** Creates the baseline's table and waits for the queue's connection. */
export async function prepareBaseline() {
  await pool.query(`
    CREATE TABLE IF NOT EXISTS ${TABLE} (
      id uuid PRIMARY KEY,
      webhook_id text NOT NULL UNIQUE,
      status text NOT NULL,
      input jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
  await queue.waitUntilReady();
}

/** Stops on SIGTERM/SIGINT: closes the server, the queue and the pool. @param {import('node:http').Server} server */
export function exitOnSignal(server) {
  const shutdown = () => {
    server.close();
    server.closeAllConnections?.();
    void Promise.allSettled([queue.close(), pool.end()]).then(() => {
      redis.disconnect();
      process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
