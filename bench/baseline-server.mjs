#!/usr/bin/env node
// The floor hookrun's ingest is measured against: a minimal server that does only what accepting a
// webhook must do — read the raw body, parse the JSON once, check the Standard Webhooks HMAC in constant
// time, one parameterised INSERT (deduplicated on the webhook id), one BullMQ add with the run id as
// jobId, answer 202. No framework machinery beyond routing, no logging, no cache, no rate limit.
//
//   node bench/baseline-server.mjs [nest|express]
//
// `nest` (default) is a NestJS-on-express app, the floor the issue names; `express` is plain express.
// Environment: PORT, HOST, DATABASE_URL, REDIS_URL, QUEUE_PREFIX, BASELINE_SLUG, BASELINE_SECRET
// (whsec_...), BASELINE_TOLERANCE_SECONDS (default 300), PG_POOL_SIZE (default 20, as hookrun's pool).
import 'reflect-metadata';

import { createHmac, timingSafeEqual } from 'node:crypto';

import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

const framework = process.argv[2] ?? 'nest';
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

const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.PG_POOL_SIZE ?? 20) });
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('baseline-runs', { connection: redis, prefix: env.QUEUE_PREFIX ?? 'hookrun-baseline' });

class HttpError extends Error {
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
async function ingest(requestSlug, headers, raw) {
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

/** @param {unknown} error @returns {{ status: number, body: unknown }} */
function errorAnswer(error) {
  const status = error instanceof HttpError ? error.status : 503;
  const code = error instanceof HttpError ? error.code : 'unavailable';
  return { status, body: { error: { status, code, message: code } } };
}

const rawBody = express.raw({ type: () => true, limit: '1mb', inflate: false });

/** @returns {Promise<import('node:http').Server>} */
async function startExpress() {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/webhooks/workflows/:slug', rawBody, (req, res) => {
    ingest(String(req.params.slug), req.headers, Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)).then(
      ({ runId, replayed }) => {
        res.status(202).setHeader('Location', `/v1/workflow-runs/${runId}`);
        if (replayed) res.setHeader('idempotent-replayed', 'true');
        res.json({ data: { runId, status: 'queued' } });
      },
      (error) => {
        const answer = errorAnswer(error);
        res.status(answer.status).json(answer.body);
      },
    );
  });
  return app.listen(Number(env.PORT ?? 3100), env.HOST ?? '127.0.0.1');
}

/** A NestJS app on express, written without TypeScript decorators (applied by hand) so that it needs no build. */
async function startNest() {
  const { Controller, Get, HttpCode, HttpException, Module, Post, Req, Res } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');

  class WebhooksController {
    /** @param {import('express').Request} req @param {import('express').Response} res */
    async receive(req, res) {
      try {
        const { runId, replayed } = await ingest(
          String(req.params.slug),
          req.headers,
          Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        );
        res.setHeader('Location', `/v1/workflow-runs/${runId}`);
        if (replayed) res.setHeader('idempotent-replayed', 'true');
        return { data: { runId, status: 'queued' } };
      } catch (error) {
        const answer = errorAnswer(error);
        throw new HttpException(/** @type {Record<string, any>} */ (answer.body), answer.status);
      }
    }

    health() {
      return { ok: true };
    }
  }
  const proto = WebhooksController.prototype;
  Reflect.decorate([Controller()], WebhooksController);
  Req()(proto, 'receive', 0);
  Res({ passthrough: true })(proto, 'receive', 1);
  Reflect.decorate(
    [Post('webhooks/workflows/:slug'), HttpCode(202)],
    proto,
    'receive',
    Object.getOwnPropertyDescriptor(proto, 'receive'),
  );
  Reflect.decorate([Get('health')], proto, 'health', Object.getOwnPropertyDescriptor(proto, 'health'));
  Reflect.defineMetadata('design:paramtypes', [Object, Object], proto, 'receive');

  class BaselineModule {}
  Reflect.decorate([Module({ controllers: [WebhooksController] })], BaselineModule);

  const app = await NestFactory.create(BaselineModule, { bodyParser: false, logger: ['error', 'warn'] });
  app.getHttpAdapter().getInstance().disable('x-powered-by');
  app.use(rawBody);
  await app.listen(Number(env.PORT ?? 3100), env.HOST ?? '127.0.0.1');
  return app.getHttpServer();
}

await pool.query(`
  CREATE TABLE IF NOT EXISTS ${TABLE} (
    id uuid PRIMARY KEY,
    webhook_id text NOT NULL UNIQUE,
    status text NOT NULL,
    input jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
  )`);
await queue.waitUntilReady();
const server = framework === 'express' ? await startExpress() : await startNest();

const shutdown = () => {
  server.close();
  server.closeAllConnections?.();
  Promise.allSettled([queue.close(), pool.end()]).then(() => {
    redis.disconnect();
    process.exit(0);
  });
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
