#!/usr/bin/env node
// Run retention on a big table: fills its own database with RUNS finished runs (default 2,000,000, two steps each)
// that ended 90 to 30 days ago, then runs hookrun's pruner (the built one: `npm run build` first) with a 60-day
// retention, so about half go, while new runs keep being inserted. Reports the batches' times, the inserts'
// latency during the prune against a quiet baseline, the longest lock wait seen, and the size of each table and
// index: filled, pruned, vacuumed, and filled again with as many runs as were pruned, from the last 30 days (time
// going on: their ids come after every other, as new runs' do); then one more cycle 30 days on (without inserts
// during the prune): does the freed space come back, and does the size settle?
// Usage: node bench/retention.mjs [--runs 2000000] [--rate 1000] [--keep]
// Environment: DATABASE_URL's server (database hookrun_bench_retention, dropped at the end unless --keep).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import pg from 'pg';
import { DataSource } from 'typeorm';

import { summarize } from './lib/stats.mjs';

const root = join(import.meta.dirname, '..');
const dist = (/** @type {string} */ path) => import(join(root, 'dist', path));
const { dataSourceOptions, runMigrations } = await dist('database/data-source.config.js');
const { RunRetentionRepository } = await dist('modules/runs/run-retention.repository.js');
const { RunsPruner } = await dist('modules/runs/runs.pruner.js');
const { WorkflowsRepository } = await dist('modules/workflows/workflows.repository.js');

Logger.overrideLogger(['warn', 'error']);

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '2000000' },
    rate: { type: 'string', default: '1000' },
    keep: { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
/** New runs a second (in all), inserted 50 to a statement (with their steps) on two connections. */
const RATE = Number(args.rate);
const WORKFLOWS = 10;
const DAYS = 60;
/** The first fill ends this many days ago; the second fills them. */
const GAP_DAYS = 30;
const RETENTION_DAYS = 60;
const CHUNK = 250_000;
const BASELINE_MS = 15_000;

const NAME = 'hookrun_bench_retention';
const serverUrl = new URL(process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres');
const databaseUrl = Object.assign(new URL(serverUrl), { pathname: `/${NAME}` }).toString();
const adminUrl = Object.assign(new URL(serverUrl), { pathname: '/postgres' }).toString();

const log = (/** @type {string} */ line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const seconds = (/** @type {number} */ since) => ((performance.now() - since) / 1000).toFixed(1);

async function admin(/** @type {string} */ sql) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// A UUIDv7 of created_at, as the app mints them; inputs and outputs of a typical small webhook.
const RUN_ROWS = `
  SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-'
          || substr(r, 7, 12))::uuid AS id,
         ($2::uuid[])[1 + (i % $3)] AS workflow_id, created_at
    FROM (SELECT i, created_at, lpad(to_hex((extract(epoch FROM created_at) * 1000)::bigint), 12, '0') AS h,
                 md5(i::text || random()::text) AS r
            FROM (SELECT i, now() - interval '1 minute' - $6 * interval '1 day'
                                - ($4 * interval '1 day') * (1 - (i - $5)::float8 / $1) AS created_at
                    FROM generate_series($5 + 1, $5 + $1) AS i) AS g) AS x`;

const INSERT_RUNS = `
  WITH rows AS (${RUN_ROWS}),
  runs AS (
    INSERT INTO workflow_runs (id, workflow_id, workflow_version, status, trigger_type, trigger_id, webhook_id, input,
                               output, attempt, created_at, started_at, completed_at, updated_at, request_id,
                               body_bytes, body_sha256)
    SELECT id, workflow_id, 1, CASE WHEN random() < 0.9 THEN 'completed' ELSE 'failed' END, 'webhook', workflow_id,
           'msg_' || md5(id::text), jsonb_build_object('companyId', md5(id::text), 'deals', jsonb_build_array(1, 2, 3)),
           '{"doubled": 6}', 1, created_at, created_at + interval '5 ms', created_at + interval '80 ms',
           created_at + interval '80 ms', md5(created_at::text), 120, md5(id::text) || md5(workflow_id::text)
      FROM rows
    RETURNING id, started_at, completed_at)
  INSERT INTO workflow_run_steps (run_id, step_id, position, type, status, attempts, started_at, finished_at, output)
  SELECT id, step, position, 'transform', 'completed', 1, started_at, completed_at, '{"score": 3}'
    FROM runs, unnest(ARRAY['score', 'notify']) WITH ORDINALITY AS s(step, position)`;

/** `count` finished runs over `days` days ending `endDaysAgo` ago, numbered from `from` (distinct webhook ids). */
async function fill(/** @type {pg.Client} */ db, workflowIds, from, count, days, endDaysAgo) {
  for (let done = 0; done < count; done += CHUNK) {
    const n = Math.min(CHUNK, count - done);
    // Oldest first, as they arrived; each chunk covers its share of the period.
    const chunkDays = (days * n) / count;
    const offsetDays = endDaysAgo + days * (1 - (done + n) / count);
    await db.query(INSERT_RUNS, [n, workflowIds, WORKFLOWS, chunkDays, from + done, offsetDays]);
  }
}

async function sizes(/** @type {pg.Client} */ db) {
  const { rows } = await db.query(
    `SELECT c.relname AS relation, i.indexrelid::regclass::text AS index,
            pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS heap,
            pg_relation_size(i.indexrelid) AS index_size, c.reltuples::bigint AS rows
       FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid
      WHERE c.relname IN ('workflow_runs', 'workflow_run_steps') ORDER BY 1, 2`,
  );
  /** @type {Record<string, Record<string, number>>} */
  const out = {};
  for (const row of rows) {
    out[row.relation] ??= { total: Number(row.total), heap: Number(row.heap) };
    if (row.index) out[row.relation][row.index] = Number(row.index_size);
  }
  return out;
}

const counts = async (/** @type {pg.Client} */ db) =>
  (
    await db.query(
      `SELECT (SELECT count(*) FROM workflow_runs)::int AS runs, (SELECT count(*) FROM workflow_run_steps)::int AS steps`,
    )
  ).rows[0];

/** New runs at RATE a second until stopped: the latency of each insert statement. */
function insertLoad(/** @type {pg.Pool} */ pool, workflowIds, firstNumber) {
  const samples = [];
  let stopped = false;
  let number = firstNumber;
  const perStatement = 50;
  const loops = 2;
  const intervalMs = (1000 * perStatement * loops) / RATE;
  const loop = async () => {
    for (let next = performance.now(); !stopped;) {
      const started = performance.now();
      const from = number;
      number += perStatement;
      // Runs that keep arriving during the prune: as if "now" were GAP_DAYS ago, so that the second fill's ids
      // (the days since) come after theirs, as time goes on.
      await pool.query(INSERT_RUNS, [perStatement, workflowIds, WORKFLOWS, 0, from, GAP_DAYS]);
      samples.push(performance.now() - started);
      next += intervalMs;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  const running = Array.from({ length: loops }, loop);
  return {
    stop: async () => {
      stopped = true;
      await Promise.all(running);
      return { samples, inserted: number - firstNumber };
    },
  };
}

/** Samples the sessions waiting on a lock: the longest time one has waited. */
function lockWatch(/** @type {pg.Client} */ db) {
  let longest = 0;
  let waiting = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await db.query(
        `SELECT coalesce(max(extract(epoch FROM now() - query_start) * 1000), 0) AS ms, count(*)::int AS n
           FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'`,
        [NAME],
      );
      longest = Math.max(longest, Number(rows[0].ms));
      waiting += rows[0].n;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { longestLockWaitMs: Math.round(longest), lockWaitSamples: waiting };
    },
  };
}

const mb = (/** @type {number} */ bytes) => (bytes / 1024 / 1024).toFixed(1);

function printSizes(/** @type {[string, Awaited<ReturnType<typeof sizes>>][]} */ stages) {
  const names = Object.entries(stages[0][1]).flatMap(([table, parts]) =>
    Object.keys(parts).map((part) => [table, part]),
  );
  console.log(`\n${'MB'.padEnd(48)}${stages.map(([stage]) => stage.padStart(14)).join('')}`);
  for (const [table, part] of names) {
    const label = part === 'total' || part === 'heap' ? `${table} ${part}` : `  ${part}`;
    console.log(`${label.padEnd(48)}${stages.map(([, s]) => mb(s[table][part]).padStart(14)).join('')}`);
  }
}

async function main() {
  await admin(`DROP DATABASE IF EXISTS ${NAME}`);
  await admin(`CREATE DATABASE ${NAME}`);
  await runMigrations(databaseUrl);
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const watcher = new pg.Client({ connectionString: databaseUrl });
  await watcher.connect();
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const dataSource = new DataSource(dataSourceOptions(databaseUrl, 4));
  await dataSource.initialize();
  try {
    const { rows: autovacuum } = await db.query(`SHOW autovacuum`);
    const workflowIds = [];
    for (let i = 0; i < WORKFLOWS; i++) {
      const { rows } = await db.query(
        `WITH w AS (INSERT INTO workflows (id, name, version, definition) VALUES (gen_random_uuid(), $1, 1, '{}')
                    RETURNING id)
         INSERT INTO workflow_versions (workflow_id, version, definition) SELECT id, 1, '{}' FROM w RETURNING workflow_id`,
        [`workflow ${i}`],
      );
      workflowIds.push(rows[0].workflow_id);
    }

    log(`filling ${RUNS} finished runs (two steps each) from ${DAYS + GAP_DAYS} to ${GAP_DAYS} days ago`);
    let started = performance.now();
    await fill(db, workflowIds, 0, RUNS, DAYS, GAP_DAYS);
    log(`filled in ${seconds(started)} s`);

    log(`baseline: ${RATE} new runs/s for ${BASELINE_MS / 1000} s, no pruning`);
    let load = insertLoad(pool, workflowIds, 10_000_000);
    await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
    const baseline = await load.stop();
    await db.query('VACUUM ANALYZE workflow_runs, workflow_run_steps');
    const filled = await counts(db);
    log(`before pruning: ${JSON.stringify(filled)}`);
    const stages = [['filled', await sizes(db)]];

    log(`pruning (retention ${RETENTION_DAYS} days) while inserting ${RATE} new runs/s`);
    const repository = new RunRetentionRepository(dataSource);
    const batches = [];
    const deleteBatch = repository.deleteFinishedBefore.bind(repository);
    repository.deleteFinishedBefore = async (...batchArgs) => {
      const batchStarted = performance.now();
      const result = await deleteBatch(...batchArgs);
      batches.push(performance.now() - batchStarted);
      return result;
    };
    const workflows = new WorkflowsRepository(dataSource);
    const pruner = new RunsPruner(
      repository,
      { runRetentions: () => workflows.listRunRetentions() },
      { runRetentionDays: RETENTION_DAYS },
    );
    load = insertLoad(pool, workflowIds, 20_000_000);
    const locks = lockWatch(watcher);
    started = performance.now();
    const result = await pruner.prune();
    const pruneSeconds = seconds(started);
    const firstBatches = batches.slice();
    const during = await load.stop();
    const lockWaits = await locks.stop();
    log(`pruned ${result.deleted} runs in ${pruneSeconds} s: ${JSON.stringify(await counts(db))}`);
    stages.push(['pruned 1', await sizes(db)]);

    // What autovacuum does in time (this server may run with it off: `SHOW autovacuum` below).
    started = performance.now();
    await db.query('VACUUM ANALYZE workflow_runs, workflow_run_steps');
    log(`vacuumed in ${seconds(started)} s`);
    stages.push(['vacuumed 1', await sizes(db)]);

    log(`second fill: ${result.deleted} finished runs over the last ${GAP_DAYS} days`);
    started = performance.now();
    await fill(db, workflowIds, 30_000_000, result.deleted, GAP_DAYS - 0.02, 0.01);
    await db.query('VACUUM ANALYZE workflow_runs, workflow_run_steps');
    log(`filled again in ${seconds(started)} s: ${JSON.stringify(await counts(db))}`);
    stages.push(['filled 2', await sizes(db)]);

    // A second cycle, GAP_DAYS later: the rest of the first fill goes, and as many runs come after the second fill.
    started = performance.now();
    const second = await pruner.prune(new Date(Date.now() + GAP_DAYS * 86_400_000));
    await db.query('VACUUM ANALYZE workflow_runs, workflow_run_steps');
    log(
      `pruned ${second.deleted} more runs and vacuumed in ${seconds(started)} s: ${JSON.stringify(await counts(db))}`,
    );
    stages.push(['pruned 2', await sizes(db)]);
    await fill(db, workflowIds, 40_000_000, second.deleted, GAP_DAYS - 0.02, -GAP_DAYS + 0.01);
    await db.query('VACUUM ANALYZE workflow_runs, workflow_run_steps');
    log(`filled a third time: ${JSON.stringify(await counts(db))}`);
    stages.push(['filled 3', await sizes(db)]);

    console.log(`\n${filled.runs} runs over ${DAYS} days, ${WORKFLOWS} workflows, retention ${RETENTION_DAYS} days`);
    console.log(`new runs during the prune: ${RATE}/s`);
    console.log(`server autovacuum: ${autovacuum[0].autovacuum}`);
    console.log(`prune: ${result.deleted} runs in ${pruneSeconds} s, ${firstBatches.length} batches`);
    console.log(`batch ms, with new runs arriving: ${JSON.stringify(summarize(firstBatches))}`);
    console.log(`batch ms, second prune (quiet): ${JSON.stringify(summarize(batches.slice(firstBatches.length)))}`);
    console.log(`insert of 50 runs + 100 steps, ms, baseline: ${JSON.stringify(summarize(baseline.samples))}`);
    console.log(`insert of 50 runs + 100 steps, ms, during prune: ${JSON.stringify(summarize(during.samples))}`);
    console.log(`runs inserted during the prune: ${during.inserted}; lock waits: ${JSON.stringify(lockWaits)}`);
    printSizes(stages);
  } finally {
    await dataSource.destroy();
    await pool.end();
    await watcher.end();
    await db.end();
    if (!args.keep) await admin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  }
}

await main();
