#!/usr/bin/env node
// `npm run bench`: hookrun's ingest and end-to-end figures, side by side with baseline servers that only ingest.
// Run `node bench/run.mjs --help` for the options; BENCHMARKS.md for what each figure means.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { Redis } from 'ioredis';
import pg from 'pg';

import {
  BASELINES,
  baselineScenario,
  e2eScenario,
  idleLatencyScenario,
  ingestScenario,
  soakScenario,
} from './lib/scenarios.mjs';
import { setBenchDatabase } from './lib/processes.mjs';
import { cleanRedis, databaseName, ensureDatabase, lockBench } from './lib/services.mjs';
import { medianOf } from './lib/stats.mjs';
import { evaluateTargets, markdownReport, pairedIngestRatio, profileReport } from './lib/report.mjs';

const HELP = `Usage: npm run bench -- [options]

  --scenarios LIST     comma-separated: ingest, nest-baseline (a minimal NestJS app), node-baseline
                       (a plain node:http server), express-baseline (a minimal express app), e2e,
                       e2e-split (e2e with API and workers in processes of their own: --apis, --workers),
                       idle-latency, soak
                       (default: ingest,nest-baseline,node-baseline,e2e,idle-latency; only soak when
                       --soak is given alone; "baseline" and "baseline-express" are the former names)
  --duration S         seconds of each measured window (default 20)
  --warmup S           seconds of unmeasured load before each window (default 5, or 1 when --duration < 10)
  --runs N             repeat every scenario N times and report the median of each figure (default 1)
  --connections N      autocannon connections (default 50)
  --soak S             run e2e for S seconds in one process, in windows, and report RSS over time
  --soak-window S      length of a soak window (default 60)
  --rss-interval S     RSS sampling period during the soak (default 5)
  --apis N             API processes of e2e-split, each sent an equal share of the load (default 1)
  --workers N          worker processes of e2e-split (default 1)
  --e2e-rate R         drive e2e (and soak) open loop at R requests/s, evenly paced, instead of closed loop
  --idle-requests N    deliveries in idle-latency (default 200; also bounded by --duration)
  --max-rate R         signed deliveries prepared per second of window (default 6000)
  --cpu-prof           run the servers under node --cpu-prof and summarise where the time went
  --quiet-wait S       before each scenario, wait up to S s for other processes to go idle (default 120)
  --app DIR            the hookrun checkout to measure (its dist/main.js; default: this repository)
  --skip-build         do not build dist/ when it is missing or older than src/
  --label TEXT         title of this measurement in the report
  --out DIR            where results go (default bench/results)

Environment: BENCH_DATABASE_URL (used as is), else DATABASE_URL's server with the database hookrun_bench,
else postgres://postgres@127.0.0.1:5432/hookrun_bench (created when missing; its tables are emptied
between scenarios). REDIS_URL (default redis://127.0.0.1:6379); keys go under a prefix of their own.
hookrun settings in the environment (WORKER_CONCURRENCY, ...) reach the hookrun processes.`;

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    duration: { type: 'string', default: '20' },
    warmup: { type: 'string' },
    runs: { type: 'string', default: '1' },
    connections: { type: 'string', default: '50' },
    soak: { type: 'string' },
    'soak-window': { type: 'string', default: '60' },
    'rss-interval': { type: 'string', default: '5' },
    'e2e-rate': { type: 'string' },
    apis: { type: 'string', default: '1' },
    workers: { type: 'string', default: '1' },
    'idle-requests': { type: 'string', default: '200' },
    'max-rate': { type: 'string', default: '6000' },
    'cpu-prof': { type: 'boolean', default: false },
    'quiet-wait': { type: 'string', default: '120' },
    app: { type: 'string' },
    'skip-build': { type: 'boolean', default: false },
    label: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

/** @param {string | undefined} value @param {string} name @param {number} min */
function num(value, name, min) {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name} must be a number ≥ ${min}`);
    process.exit(2);
  }
  return n;
}

const duration = num(args.duration, 'duration', 1);
const soakSeconds = args.soak === undefined ? undefined : num(args.soak, 'soak', 1);
const ALL = ['ingest', ...Object.keys(BASELINES), 'e2e', 'e2e-split', 'idle-latency', 'soak'];
/** @type {Record<string, string>} */
const FORMER_NAMES = { baseline: 'nest-baseline', 'baseline-express': 'express-baseline' };
let scenarios = args.scenarios
  ? args.scenarios
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => FORMER_NAMES[s] ?? s)
  : soakSeconds !== undefined
    ? ['soak']
    : ['ingest', 'nest-baseline', 'node-baseline', 'e2e', 'idle-latency'];
const unknown = scenarios.filter((s) => !ALL.includes(s));
if (unknown.length) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')} (known: ${ALL.join(', ')})`);
  process.exit(2);
}
if (soakSeconds !== undefined && !scenarios.includes('soak')) scenarios.push('soak');
const options = {
  duration,
  warmup: args.warmup === undefined ? (duration < 10 ? 1 : 5) : num(args.warmup, 'warmup', 0),
  runs: Math.floor(num(args.runs, 'runs', 1)),
  connections: Math.floor(num(args.connections, 'connections', 1)),
  soak: soakSeconds ?? (scenarios.includes('soak') ? 600 : undefined),
  soakWindow: num(args['soak-window'], 'soak-window', 1),
  rssInterval: num(args['rss-interval'], 'rss-interval', 1),
  e2eRate: args['e2e-rate'] === undefined ? undefined : num(args['e2e-rate'], 'e2e-rate', 1),
  idleRequests: Math.floor(num(args['idle-requests'], 'idle-requests', 1)),
  maxRate: num(args['max-rate'], 'max-rate', 1),
  cpuProf: args['cpu-prof'],
  apis: Math.floor(num(args.apis, 'apis', 1)),
  workers: Math.floor(num(args.workers, 'workers', 1)),
  quietWait: num(args['quiet-wait'], 'quiet-wait', 0),
  scenarios,
};

const appDir = resolve(args.app ?? root);
const outRoot = resolve(args.out ?? join(root, 'bench', 'results'));
const startedAt = new Date().toISOString();
const stamp = startedAt.replace(/[:.]/g, '-');
const outDir = join(outRoot, stamp);

const databaseUrl = benchDatabaseUrl();
const redisUrl = process.env.REDIS_URL?.trim() || 'redis://127.0.0.1:6379';

/** The bench's own database: never the one hookrun keeps its data in. */
function benchDatabaseUrl() {
  const explicit = process.env.BENCH_DATABASE_URL?.trim();
  if (explicit) return explicit;
  const url = new URL(process.env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/hookrun_bench');
  url.pathname = '/hookrun_bench';
  return url.toString();
}

/** Builds dist/ when it is missing or older than the sources (as `npm start` does). */
function ensureBuilt() {
  const main = join(appDir, 'dist', 'main.js');
  const newest = (/** @type {string} */ path) => {
    const stat = statSync(path);
    if (!stat.isDirectory()) return stat.mtimeMs;
    return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
  };
  const inputs = ['src', 'package.json', 'tsconfig.json', 'tsconfig.build.json']
    .map((p) => join(appDir, p))
    .filter(existsSync);
  const stale = !existsSync(main) || (inputs.length > 0 && statSync(main).mtimeMs < Math.max(...inputs.map(newest)));
  if (!stale) return;
  if (args['skip-build']) {
    if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
    console.log('Note: dist/ is older than src/ (--skip-build): measuring the build as it is.');
    return;
  }
  console.log(`Building hookrun in ${appDir} (dist/ is missing or older than src/)...`);
  const nest = join(appDir, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
  const build = spawnSync(process.execPath, [nest, 'build'], { cwd: appDir, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('Build failed');
}

function gitCommit() {
  const rev = spawnSync('git', ['-C', appDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  if (rev.status !== 0) return null;
  const dirty = spawnSync('git', ['-C', appDir, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' });
  return `${rev.stdout.trim()}${dirty.stdout.trim() ? ' + uncommitted src/ changes' : ''}`;
}

/** @param {pg.Pool} db */
async function machineInfo(db) {
  const cpus = os.cpus();
  const { rows } = await db.query('SHOW server_version');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
  const memGiB = Math.round(os.totalmem() / 2 ** 30);
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? '?',
    memoryGiB: memGiB,
    node: process.version,
    postgres: rows[0].server_version,
    redis: redisVersion,
    kernel: os.release(),
    summary: `${cpus.length} vCPU (${cpus[0]?.model ?? '?'}), ${memGiB} GiB, Node ${process.version}, PostgreSQL ${rows[0].server_version}, Redis ${redisVersion}`,
  };
}

async function main() {
  ensureBuilt();
  const created = await ensureDatabase(databaseUrl);
  console.log(`Database ${databaseName(databaseUrl)}${created.created ? ' (created)' : ''}; Redis ${redisUrl}`);
  setBenchDatabase(databaseName(databaseUrl));
  const unlock = await lockBench(databaseUrl, 3_600_000, (line) => console.log(line));
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const prefix = `hookrun-bench-${randomBytes(4).toString('hex')}`;
  mkdirSync(outDir, { recursive: true });
  const ctx = {
    root,
    appDir,
    databaseUrl,
    redisUrl,
    prefix,
    encryptionKey: `k1:${randomBytes(32).toString('base64url')}`,
    apiKey: `hr_bench_${randomBytes(24).toString('base64url')}`,
    db,
    connections: options.connections,
    duration: options.duration,
    warmup: options.warmup,
    maxRate: options.maxRate,
    e2eRate: options.e2eRate,
    idleRequests: options.idleRequests,
    cpuProf: options.cpuProf,
    apis: options.apis,
    workers: options.workers,
    quietWaitMs: options.quietWait * 1000,
    outDir,
    log: (/** @type {string} */ line) => console.log(line),
  };
  const machine = await machineInfo(db);
  console.log(`Machine: ${machine.summary}`);
  console.log(
    `Scenarios: ${scenarios.join(', ')}; ${options.runs} run(s) of ${options.duration} s (+${options.warmup} s warm-up)`,
  );

  /** @type {Record<string, (c: typeof ctx) => Promise<any>>} */
  const runners = {
    ingest: ingestScenario,
    ...Object.fromEntries(Object.keys(BASELINES).map((kind) => [kind, (c) => baselineScenario(c, kind)])),
    e2e: (c) => e2eScenario(c, false),
    'e2e-split': (c) => e2eScenario(c, true),
    'idle-latency': idleLatencyScenario,
  };
  /** @type {string[]} */
  const failures = [];
  /** @type {Record<string, any>[]} */
  const runs = [];
  for (let run = 1; run <= options.runs; run++) {
    /** @type {Record<string, any>} */
    const results = {};
    // Every other run in reverse order, so that a machine getting slower or faster during the bench
    // does not always favour the scenario that runs first.
    const order = scenarios.filter((s) => s !== 'soak');
    for (const name of run % 2 === 1 ? order : order.reverse()) {
      console.log(`[run ${run}/${options.runs}] ${name}...`);
      try {
        const result = await runners[name](ctx);
        results[name] = result;
        console.log(`  ${oneLine(name, result)}`);
        const broken = brokenReason(name, result);
        if (broken) failures.push(`${name} (run ${run}): ${broken}`);
      } catch (error) {
        console.error(`  ${name} failed: ${error instanceof Error ? error.stack : String(error)}`);
        failures.push(`${name} (run ${run}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
    }
    runs.push(results);
  }
  let soak = null;
  if (scenarios.includes('soak')) {
    console.log(`soak: ${options.soak} s in windows of ${options.soakWindow} s...`);
    try {
      soak = await soakScenario(ctx, {
        seconds: /** @type {number} */ (options.soak),
        windowSeconds: options.soakWindow,
        rssIntervalSeconds: options.rssInterval,
      });
    } catch (error) {
      console.error(`  soak failed: ${error instanceof Error ? error.stack : String(error)}`);
      failures.push(`soak: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  // The last scenario's queue (often a baseline's) would otherwise stay in Redis: ingest leaves its jobs unworked.
  await cleanRedis(redisUrl, prefix);
  await db.end();
  await unlock();

  /** @type {Record<string, any>} */
  const median = {};
  for (const name of scenarios.filter((s) => s !== 'soak')) {
    const values = runs
      .map((r) => r[name])
      .filter(Boolean)
      .map(({ profile, ...rest }) => rest);
    if (values.length) median[name] = medianOf(values);
  }
  const results = {
    label: args.label ?? 'hookrun benchmark',
    startedAt,
    machine,
    app: { dir: appDir, commit: gitCommit() },
    options: {
      ...options,
      databaseUrl: databaseUrl.replace(/\/\/[^@/]*@/, '//***@'),
      redisUrl: redisUrl.replace(/\/\/[^@/]*@/, '//***@'),
    },
    median,
    ratios: Object.fromEntries(
      Object.keys(BASELINES).map((kind) => [
        kind,
        {
          paired: pairedIngestRatio(runs, kind),
          ofMedians:
            median.ingest && median[kind] ? round2(median.ingest.acceptedPerSec / median[kind].acceptedPerSec) : null,
        },
      ]),
    ),
    targets: evaluateTargets({ ...median, soak }, pairedIngestRatio(runs)?.median ?? null),
    soak,
    runs,
    failures,
  };
  let markdown = markdownReport(results);
  if (options.cpuProf) {
    const lastRun = runs[runs.length - 1] ?? {};
    markdown += `\n\n#### CPU profiles\n\n${profileReport({ ...lastRun, ...(soak ? { soak } : {}) })}`;
  }
  const jsonFile = join(outRoot, `${stamp}.json`);
  const mdFile = join(outRoot, `${stamp}.md`);
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(mdFile, `${markdown}\n`);
  console.log(`\n${markdown}\n`);
  console.log(`Results: ${jsonFile}\n         ${mdFile}`);
  if (failures.length) {
    console.error(`\nSomething broke:\n  - ${failures.join('\n  - ')}`);
    process.exitCode = 1;
  }
}

/** @param {number} v */
function round2(v) {
  return Math.round(v * 100) / 100;
}

/** A scenario that ran but measured nothing is broken, not slow. @param {string} name @param {any} r */
function brokenReason(name, r) {
  if (name === 'idle-latency') return r.postToCompletedMs.count === 0 ? 'no run completed' : null;
  if (r.accepted === 0) return 'no request was accepted (202)';
  if (name.startsWith('e2e') && r.completedPerSec === 0) return 'no run completed';
  return null;
}

/** @param {string} name @param {any} r */
function oneLine(name, r) {
  if (name === 'e2e' || name === 'e2e-split') {
    return `${r.completedPerSec} runs completed/s (${r.acceptedPerSec} accepted/s, backlog ${r.backlog.start} → ${r.backlog.end}), POST→completed p50 ${r.postToCompletedMs.p50} ms p99 ${r.postToCompletedMs.p99} ms`;
  }
  if (name === 'idle-latency') {
    return `${r.requests} requests, POST→completed p50 ${r.postToCompletedMs.p50} ms p99 ${r.postToCompletedMs.p99} ms (HTTP p50 ${r.httpLatencyMs.p50} ms)`;
  }
  return `${r.acceptedPerSec} accepted/s, p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms p99.9 ${r.latencyMs.p999} ms, non-202 ${r.non202}${r.deliveriesRanOut ? ' (prepared deliveries ran out: raise --max-rate)' : ''}`;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
