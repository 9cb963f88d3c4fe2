#!/usr/bin/env node
// A/B: several hookrun builds (or one build under several environments) measured side by side in the
// same minute, so that a shared VM whose speed drifts moves them all alike. Each variant runs as its own
// API process on the bench database; the load (autocannon, closed loop) goes to one variant at a time in
// short slices, round robin, and each variant's accepted/s and CPU per request are summed over its slices.
//
//   node bench/ab.mjs --variant 'A=' --variant 'B=SOME_ENV=1' [--variant 'C=@/path/to/other/checkout']
//                     [--slices 8] [--slice 3] [--connections 50]
//
// A variant is NAME=ENV... (space-separated KEY=VALUE pairs added to hookrun's environment) or
// NAME=@DIR [KEY=VALUE...] (the build in DIR/dist), or NAME=%nest, %node or %express [KEY=VALUE...] (a baseline
// server: the minimal NestJS app, the plain node:http server, the minimal express app; %baseline is %nest).
// Uses the bench's database and Redis settings (BENCHMARKS.md).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import pg from 'pg';

import { drive } from './lib/load.mjs';
import { BASELINES } from './lib/scenarios.mjs';
import { cpuSeconds, hookrunNodeFlags, rssMiB, startServer, syscalls } from './lib/processes.mjs';
import { cleanDatabase, cleanRedis, ensureDatabase, lockBench } from './lib/services.mjs';
import { BENCH_DEFINITION, signedDeliveries } from './lib/signing.mjs';

const { values: args } = parseArgs({
  options: {
    variant: { type: 'string', multiple: true },
    slices: { type: 'string', default: '8' },
    slice: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
  },
});
const root = new URL('..', import.meta.url).pathname;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/hookrun_bench';
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `hookrun-ab-${randomBytes(3).toString('hex')}`;
const apiKey = `hr_bench_${randomBytes(24).toString('base64url')}`;
const encryptionKey = randomBytes(32).toString('hex');
const slices = Number(args.slices);
const sliceSeconds = Number(args.slice);
const connections = Number(args.connections);

/** @type {Record<string, keyof typeof BASELINES>} */
const BASELINE_VARIANTS = {
  nest: 'nest-baseline',
  baseline: 'nest-baseline',
  node: 'node-baseline',
  express: 'express-baseline',
};
const variants = (args.variant ?? ['A=']).map((spec) => {
  const eq = spec.indexOf('=');
  const name = spec.slice(0, eq);
  const rest = spec.slice(eq + 1);
  const [head, ...pairs] = rest.split(' ');
  const dir = head.startsWith('@') ? head.slice(1) : root;
  const baseline = head.startsWith('%') ? (BASELINE_VARIANTS[head.slice(1)] ?? null) : null;
  if (head.startsWith('%') && !baseline) throw new Error(`Unknown baseline ${head}: use %nest, %node or %express`);
  const env = Object.fromEntries(
    (head.startsWith('@') || baseline ? pairs : [head, ...pairs])
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  return { name, dir, env, baseline };
});

await ensureDatabase(databaseUrl);
const unlock = await lockBench(databaseUrl, 30 * 60_000, console.log);
const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
await cleanDatabase(db);
await cleanRedis(redisUrl, prefix);

/**
 * The median over rounds of this variant's rate ÷ the first variant's in the same round: the figure a
 * drifting machine moves least (each round's slices are seconds apart).
 * @param {{ perSlice: number[] }} s @param {{ perSlice: number[] }} first
 */
function pairedRatio(s, first) {
  const ratios = s.perSlice.map((rate, i) => rate / first.perSlice[i]).sort((a, b) => a - b);
  const mid = ratios.length >> 1;
  return ratios.length % 2 ? ratios[mid] : (ratios[mid - 1] + ratios[mid]) / 2;
}

/** @type {any[]} */
const servers = [];
try {
  for (const v of variants) {
    if (v.baseline) {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      const server = await startServer({
        name: v.name,
        script: join(root, 'bench', BASELINES[v.baseline].script),
        args: BASELINES[v.baseline].args,
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          REDIS_URL: redisUrl,
          QUEUE_PREFIX: `${prefix}-baseline`,
          BASELINE_SLUG: 'baseline',
          BASELINE_SECRET: secret,
          BASELINE_TOLERANCE_SECONDS: '3600',
          NODE_ENV: 'production',
          ...v.env,
        },
        cwd: root,
        readyPath: '/health',
      });
      servers.push({
        ...v,
        server,
        target: { path: '/webhooks/workflows/baseline', secret, fallbackPath: '/health' },
        accepted: 0,
        seconds: 0,
        cpu: 0,
        writes: 0,
        perSlice: [],
      });
      continue;
    }
    const server = await startServer({
      name: v.name,
      script: join(v.dir, 'dist', 'main.js'),
      args: ['api'],
      nodeArgs: hookrunNodeFlags(v.dir),
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        SECRETS_ENCRYPTION_KEY: encryptionKey,
        BOOTSTRAP_API_KEY: apiKey,
        WEBHOOK_RATE_LIMIT_PER_SECOND: '0',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
        ...v.env,
      },
      cwd: v.dir,
      readyPath: '/health/ready',
    });
    const call = async (method, path, body) => {
      const res = await fetch(`${server.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()).data;
    };
    const workflow = await call('POST', '/v1/workflows', { name: `ab ${v.name}`, definition: BENCH_DEFINITION });
    const trigger = await call('POST', `/v1/workflows/${workflow.id}/trigger/webhook`, { toleranceSeconds: 3600 });
    servers.push({
      ...v,
      server,
      target: { path: `/webhooks/workflows/${trigger.slug}`, secret: trigger.secret, fallbackPath: '/health/live' },
      accepted: 0,
      seconds: 0,
      cpu: 0,
      writes: 0,
      perSlice: [],
    });
  }

  let tag = 0;
  const load = async (s, seconds) => {
    const deliveries = signedDeliveries(s.target.secret, Math.ceil(seconds * 5000), `ab${tag++}`);
    const before = cpuSeconds(s.server.pid);
    const writesBefore = syscalls(s.server.pid).writes;
    const r = await drive({ baseUrl: s.server.baseUrl, ...s.target, deliveries, connections, seconds });
    return { r, cpu: cpuSeconds(s.server.pid) - before, writes: syscalls(s.server.pid).writes - writesBefore };
  };
  for (const s of servers) await load(s, 2); // warm-up
  for (let i = 0; i < slices; i++) {
    const order = i % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      const { r, cpu, writes } = await load(s, sliceSeconds);
      s.writes += writes;
      s.accepted += r.accepted;
      s.seconds += r.seconds;
      s.cpu += cpu;
      s.perSlice.push(Math.round(r.accepted / r.seconds));
    }
  }
  const first = servers[0];
  for (const s of servers) {
    const rate = s.accepted / s.seconds;
    console.log(
      `${s.name.padEnd(12)} ${rate.toFixed(0).padStart(6)} accepted/s  ×${(rate / (first.accepted / first.seconds)).toFixed(3)}` +
        `  paired ×${pairedRatio(s, first).toFixed(3)}  cpu ${((1000 * s.cpu) / s.accepted).toFixed(3)} ms/req  writes ${(s.writes / s.accepted).toFixed(2)}/req  rss ${rssMiB(s.server.pid).toFixed(0)} MiB  slices ${s.perSlice.join(' ')}`,
    );
  }
} finally {
  for (const s of servers) await s.server.stop();
  await cleanRedis(redisUrl, prefix);
  await cleanRedis(redisUrl, `${prefix}-baseline`);
  await db.end();
  await unlock();
}
