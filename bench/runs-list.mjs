#!/usr/bin/env node
// The runs list on big data: fills its own database with RUNS runs (default 1,000,000) over 30 days, starts the
// built hookrun (`npm run build` first) on it, and reports p50/p99 of each list query the console makes.
// Then again with the newest --backlog runs back in `queued` (a queue backlog), for the queries that read unfinished runs.
// Usage: node bench/runs-list.mjs [--runs 1000000] [--requests 50] [--backlog 50000] [--keep]
// Environment: DATABASE_URL's server (database hookrun_bench_runs, dropped at the end unless --keep), REDIS_URL.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';

import { hookrunNodeFlags, startServer } from './lib/processes.mjs';
import { cleanRedis } from './lib/services.mjs';
import { summarize } from './lib/stats.mjs';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '50' },
    backlog: { type: 'string', default: '50000' },
    keep: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
const REQUESTS = Number(args.requests);
const BACKLOG = Number(args.backlog);
const WORKFLOWS = 50;
const DAYS = 30;

const root = join(import.meta.dirname, '..');
const serverUrl = new URL(process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres');
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: '/hookrun_bench_runs' }).toString();
const adminUrl = Object.assign(new URL(serverUrl), { pathname: '/postgres' }).toString();
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';
const prefix = `hookrun-bench-runs-${randomBytes(4).toString('hex')}`;
const apiKey = `hr_bench_${randomBytes(24).toString('base64url')}`;

const log = (/** @type {string} */ line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function admin(/** @type {string} */ sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs spread over DAYS days, newest last; busy and quiet workflows; the last minutes still queued or running. */
async function fill(/** @type {pg.Client} */ db, /** @type {string[]} */ workflowIds) {
  await db.query(`ALTER TABLE workflow_runs SET (autovacuum_enabled = false)`);
  await db.query(
    `INSERT INTO workflow_runs
       (id, workflow_id, workflow_version, status, trigger_type, input, created_at, started_at, completed_at, updated_at)
     SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-'
             || substr(r, 7, 12))::uuid,
            ($2::uuid[])[1 + floor($3 * power(w, 2))::int], 1, status, trigger_type, '{"n":1}'::jsonb,
            created_at, created_at + interval '5 ms',
            CASE WHEN status IN ('queued', 'running') THEN NULL ELSE created_at + interval '50 ms' END,
            CASE WHEN status IN ('queued', 'running') THEN created_at ELSE created_at + interval '50 ms' END
       FROM (
         SELECT created_at, lpad(to_hex((extract(epoch FROM created_at) * 1000)::bigint), 12, '0') AS h,
                md5(i::text) AS r, w,
                CASE WHEN created_at > now() - interval '2 minutes' THEN (ARRAY['queued', 'running', 'completed'])[1 + floor(s * 3)::int]
                     WHEN s < 0.88 THEN 'completed' WHEN s < 0.97 THEN 'failed' ELSE 'cancelled' END AS status,
                CASE WHEN t < 0.85 THEN 'webhook' WHEN t < 0.97 THEN 'api' ELSE 'rerun' END AS trigger_type
           FROM (SELECT i, now() - ($4 * interval '1 day') * (1 - i::float8 / $1) AS created_at,
                        random() AS w, random() AS s, random() AS t
                   FROM generate_series(1, $1) AS i) AS g) AS runs`,
    [RUNS, workflowIds, WORKFLOWS, DAYS],
  );
  await db.query(
    `INSERT INTO workflow_run_steps (run_id, step_id, position, type, status, attempts, started_at, finished_at, output)
     SELECT id, 'double', 0, 'transform', CASE WHEN completed_at IS NULL THEN 'running' ELSE 'completed' END, 1,
            started_at, completed_at, '2'::jsonb
       FROM workflow_runs`,
  );
  await db.query(`ALTER TABLE workflow_runs RESET (autovacuum_enabled)`);
  await db.query('VACUUM ANALYZE workflow_runs');
  await db.query('VACUUM ANALYZE workflow_run_steps');
}

async function api(/** @type {string} */ baseUrl, /** @type {string} */ path, /** @type {object} */ init = {}) {
  const res = await fetch(`${baseUrl}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${JSON.stringify(body)}`);
  return body;
}

async function measure(/** @type {string} */ baseUrl, /** @type {string} */ path) {
  for (let i = 0; i < 5; i++) await api(baseUrl, path);
  const samples = [];
  let rows = 0;
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const body = await api(baseUrl, path);
    samples.push(performance.now() - started);
    rows = Array.isArray(body.data) ? body.data.length : 1;
  }
  return { ...summarize(samples), rows };
}

async function main() {
  await admin('DROP DATABASE IF EXISTS hookrun_bench_runs');
  await admin('CREATE DATABASE hookrun_bench_runs');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  /** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
  let server;
  try {
    server = await startServer({
      name: 'hookrun api',
      script: join(root, 'dist', 'main.js'),
      args: ['api'],
      nodeArgs: hookrunNodeFlags(root),
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: prefix,
        SECRETS_ENCRYPTION_KEY: `k1:${randomBytes(32).toString('base64url')}`,
        BOOTSTRAP_API_KEY: apiKey,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'production',
      },
      cwd: root,
      readyPath: '/health/ready',
    });
    const base = server.baseUrl;
    const workflowIds = [];
    for (let i = 0; i < WORKFLOWS; i++) {
      const definition = { steps: [{ id: 'double', type: 'transform', expression: 'input.n * 2' }] };
      const created = await api(base, '/v1/workflows', {
        method: 'POST',
        body: JSON.stringify({ name: `workflow ${i}`, definition }),
      });
      workflowIds.push(created.data.id);
    }
    log(`filling ${RUNS} runs`);
    const fillStarted = performance.now();
    await fill(db, workflowIds);
    log(`filled in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

    const day = 86_400_000;
    const iso = (/** @type {number} */ daysAgo) => new Date(Date.now() - daysAgo * day).toISOString();
    const busy = workflowIds[0];
    const quiet = workflowIds[WORKFLOWS - 1];
    const window = `createdFrom=${iso(15)}&createdTo=${iso(14)}`;
    const first = await api(base, '/v1/workflow-runs');
    const token = (await api(base, '/v1/workflow-runs/changes')).nextToken;
    const queries = {
      'first page': '/v1/workflow-runs',
      'second page': `/v1/workflow-runs?cursor=${first.nextCursor}`,
      'limit=100': '/v1/workflow-runs?limit=100',
      'workflowId (busy)': `/v1/workflow-runs?workflowId=${busy}`,
      'workflowId (quiet)': `/v1/workflow-runs?workflowId=${quiet}`,
      'status=failed': '/v1/workflow-runs?status=failed',
      'status=cancelled': '/v1/workflow-runs?status=cancelled',
      'status=running': '/v1/workflow-runs?status=running',
      'status=queued': '/v1/workflow-runs?status=queued',
      'triggerType=api': '/v1/workflow-runs?triggerType=api',
      'triggerType=rerun': '/v1/workflow-runs?triggerType=rerun',
      'createdFrom=7d ago': `/v1/workflow-runs?createdFrom=${iso(7)}`,
      'createdTo=20d ago': `/v1/workflow-runs?createdTo=${iso(20)}`,
      'created 15d..14d ago': `/v1/workflow-runs?${window}`,
      'created window + status=cancelled + triggerType=rerun': `/v1/workflow-runs?${window}&status=cancelled&triggerType=rerun`,
      'created window + workflowId (quiet) + status=failed': `/v1/workflow-runs?${window}&workflowId=${quiet}&status=failed`,
      'createdTo=10d ago + status=running (no match)': `/v1/workflow-runs?createdTo=${iso(10)}&status=running`,
      'workflowId (quiet) + triggerType=rerun + status=cancelled': `/v1/workflow-runs?workflowId=${quiet}&triggerType=rerun&status=cancelled`,
      'triggerType=webhook + status=cancelled + createdTo=25d ago': `/v1/workflow-runs?triggerType=webhook&status=cancelled&createdTo=${iso(25)}`,
      'workflow runs (busy)': `/v1/workflows/${busy}/runs`,
      'changes (caught up)': `/v1/workflow-runs/changes?since=${token}`,
      'changes + workflowId (busy)': `/v1/workflow-runs/changes?since=${token}&workflowId=${busy}`,
      'changes + status=running': `/v1/workflow-runs/changes?since=${token}&status=running`,
      'run-stats 24 h (busy)': `/v1/workflows/${busy}/run-stats`,
      [`workflow-run-stats 24 h (${WORKFLOWS} workflows)`]: `/v1/workflow-run-stats?workflowIds=${workflowIds.join(',')}`,
    };
    const report = async (/** @type {Record<string, string>} */ set) => {
      console.log(`${'query'.padEnd(62)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'rows'.padStart(5)}`);
      for (const [name, path] of Object.entries(set)) {
        const r = await measure(base, path);
        console.log(
          `${name.padEnd(62)} ${String(r.p50).padStart(7)} ${String(r.p99).padStart(7)} ${String(r.rows).padStart(5)}`,
        );
      }
    };
    console.log(`\n${RUNS} runs, ${WORKFLOWS} workflows, ${DAYS} days; ${REQUESTS} sequential requests each (ms)\n`);
    await report(queries);
    if (BACKLOG > 0) {
      await db.query(
        `UPDATE workflow_runs SET status = 'queued', completed_at = NULL, updated_at = created_at
          WHERE id IN (SELECT id FROM workflow_runs ORDER BY id DESC LIMIT $1)`,
        [BACKLOG],
      );
      await db.query('VACUUM ANALYZE workflow_runs');
      const since = (await api(base, '/v1/workflow-runs/changes')).nextToken;
      console.log(`\nwith the newest ${BACKLOG} runs queued (a backlog)\n`);
      await report({
        'status=queued': '/v1/workflow-runs?status=queued',
        'status=queued + workflowId (quiet)': `/v1/workflow-runs?status=queued&workflowId=${quiet}`,
        'changes (caught up)': `/v1/workflow-runs/changes?since=${since}`,
        'changes + workflowId (busy)': `/v1/workflow-runs/changes?since=${since}&workflowId=${busy}`,
        'changes + workflowId (quiet)': `/v1/workflow-runs/changes?since=${since}&workflowId=${quiet}`,
        'changes + status=queued': `/v1/workflow-runs/changes?since=${since}&status=queued`,
        'run-stats 24 h (busy)': `/v1/workflows/${busy}/run-stats`,
      });
    }
  } finally {
    await server?.stop();
    await db.end();
    await cleanRedis(redisUrl, prefix).catch(() => undefined);
    if (!args.keep) await admin('DROP DATABASE IF EXISTS hookrun_bench_runs');
  }
}

await main();
