#!/usr/bin/env node
// Is memory growing, or is V8 only sizing its heap? Runs hookrun (API and worker) inside this process,
// drives signed webhooks at an even rate in rounds, and after each round forces two full garbage
// collections and prints the live heap: a leak grows it round after round, heap sizing moves only RSS.
//
//   node --expose-gc bench/heap-probe.mjs [--rate 300] [--rounds 10] [--round 30]
//
// Uses the bench's database and Redis settings (BENCH_DATABASE_URL, REDIS_URL; BENCHMARKS.md) and the
// build in dist/ (npm run build).
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

import { createApp } from '../dist/app.lifecycle.js';
import { loadConfig } from '../dist/config/app.config.js';
import { drivePaced } from './lib/paced.mjs';
import { cleanDatabase, cleanRedis, ensureDatabase, lockBench } from './lib/services.mjs';
import { BENCH_DEFINITION, signedDeliveries } from './lib/signing.mjs';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '10' },
    round: { type: 'string', default: '30' },
  },
});
if (typeof globalThis.gc !== 'function') {
  console.error('Run it with node --expose-gc bench/heap-probe.mjs');
  process.exit(2);
}
const gc = /** @type {() => void} */ (globalThis.gc);
const rate = Number(args.rate);
const rounds = Number(args.rounds);
const seconds = Number(args.round);
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hookrun_bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `hookrun-heap-${randomBytes(3).toString('hex')}`;
const apiKey = `hr_bench_${randomBytes(24).toString('base64url')}`;

await ensureDatabase(databaseUrl);
const unlock = await lockBench(databaseUrl, 30 * 60_000, console.log);
const pg = await import('pg');
const db = new pg.default.Pool({ connectionString: databaseUrl, max: 1 });
await cleanDatabase(db);
const config = loadConfig(
  {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SECRETS_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    BOOTSTRAP_API_KEY: apiKey,
    WEBHOOK_RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: 'warn',
  },
  { role: 'all' },
);
const app = await createApp(config);
try {
  await app.listen(0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${app.getHttpServer().address().port}`;
  const call = async (/** @type {string} */ path, /** @type {unknown} */ body) => {
    const res = await fetch(baseUrl + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()).data;
  };
  const workflow = await call('/v1/workflows', { name: 'heap probe', definition: BENCH_DEFINITION });
  const trigger = await call(`/v1/workflows/${workflow.id}/trigger/webhook`, { toleranceSeconds: 3600 });
  for (let round = 1; round <= rounds; round++) {
    const deliveries = signedDeliveries(trigger.secret, rate * seconds, `h${round}`);
    const result = await drivePaced({
      baseUrl,
      path: `/webhooks/workflows/${trigger.slug}`,
      deliveries,
      connections: 50,
      seconds,
      rate,
      fallbackPath: '/health/live',
    });
    const { rows } = await db.query(
      "SELECT count(*) FILTER (WHERE status = 'completed')::int AS done, count(*)::int AS total FROM workflow_runs",
    );
    gc();
    gc();
    const m = process.memoryUsage();
    const mib = (/** @type {number} */ v) => (v / 2 ** 20).toFixed(1);
    console.log(
      `round ${round}: ${result.accepted} accepted, runs completed ${rows[0].done}/${rows[0].total}; ` +
        `live heap ${mib(m.heapUsed)} MiB, external ${mib(m.external)} MiB, RSS ${mib(m.rss)} MiB`,
    );
  }
} finally {
  await app.close();
  await cleanRedis(redisUrl, prefix);
  await db.end();
  await unlock();
}
process.exit(0);
