// The scenarios: ingest (API only), the baselines (the same load on servers that only ingest), e2e (API
// and worker in one process), idle-latency (one request at a time) and soak (e2e for long, RSS over time).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { drive, postOne } from './load.mjs';
import { cpuMeter, hookrunNodeFlags, rssMiB, sleep, startServer, waitForQuiet } from './processes.mjs';
import { cleanDatabase, cleanRedis, unfinishedRuns } from './services.mjs';
import { BENCH_DEFINITION, signedDeliveries } from './signing.mjs';
import { median, summarize } from './stats.mjs';
import { summarizeProfile } from './profile.mjs';

/**
 * @typedef {import('./processes.mjs').ServerProcess} ServerProcess
 * @typedef {object} BenchContext
 * @property {string} root the bench's project root (where bench/ lives)
 * @property {string} appDir the hookrun checkout whose dist/main.js is measured
 * @property {string} databaseUrl
 * @property {string} redisUrl
 * @property {string} prefix Redis key prefix of this invocation
 * @property {string} encryptionKey
 * @property {string} apiKey
 * @property {import('pg').Pool} db
 * @property {number} connections
 * @property {number} duration seconds of each measured window
 * @property {number} warmup seconds of load before each window, not measured
 * @property {number} maxRate deliveries prepared per second of window
 * @property {number | undefined} e2eRate open-loop rate for e2e (requests/s), closed loop when undefined
 * @property {number} idleRequests
 * @property {boolean} cpuProf
 * @property {number} apis API processes of e2e-split
 * @property {number} workers worker processes of e2e-split
 * @property {number} quietWaitMs how long to wait for other processes to go quiet before a scenario
 * @property {string} outDir where this invocation writes (profiles)
 * @property {(line: string) => void} log
 */

let poolCounter = 0;
/** A tag unique within this invocation, so that no webhook-id is ever sent twice. */
function nextTag() {
  poolCounter += 1;
  return `${Date.now().toString(36)}${poolCounter}`;
}

/** @param {BenchContext} ctx @param {number} seconds */
function poolSize(ctx, seconds) {
  return Math.ceil(ctx.maxRate * seconds * 1.1) + ctx.connections * 2;
}

/** @param {BenchContext} ctx */
function hookrunEnv(ctx) {
  return {
    ...process.env,
    DATABASE_URL: ctx.databaseUrl,
    REDIS_URL: ctx.redisUrl,
    QUEUE_PREFIX: ctx.prefix,
    SECRETS_ENCRYPTION_KEY: ctx.encryptionKey,
    BOOTSTRAP_API_KEY: ctx.apiKey,
    // The per-trigger limit would cap the bench at its own figure.
    WEBHOOK_RATE_LIMIT_PER_SECOND: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    NODE_ENV: 'production',
  };
}

let profileCounter = 0;
/** @param {BenchContext} ctx @param {string} label */
function profileArgs(ctx, label) {
  if (!ctx.cpuProf) return { nodeArgs: [], dir: null };
  profileCounter += 1;
  const dir = join(ctx.outDir, 'profiles', `${label}-${profileCounter}`);
  mkdirSync(dir, { recursive: true });
  return { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir], dir };
}

/**
 * Stops a server and, when it was profiled, summarises the profile it wrote on exit.
 * @param {ServerProcess} server @param {string | null} profileDir
 */
async function stopServer(server, profileDir) {
  const code = await server.stop('SIGTERM');
  if (!profileDir) return { exitCode: code, profile: null };
  const files = readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
  const profiles = files.map((f) => ({ file: join(profileDir, f), ...summarizeProfile(join(profileDir, f)) }));
  return { exitCode: code, profile: profiles };
}

/**
 * @param {BenchContext} ctx @param {'api' | 'worker' | 'all'} role @param {string} label
 */
async function startHookrun(ctx, role, label) {
  const prof = profileArgs(ctx, label);
  const server = await startServer({
    name: `hookrun ${role}`,
    script: join(ctx.appDir, 'dist', 'main.js'),
    args: [role],
    nodeArgs: [...hookrunNodeFlags(ctx.appDir), ...prof.nodeArgs],
    env: hookrunEnv(ctx),
    cwd: ctx.appDir,
    readyPath: '/health/ready',
  });
  return { server, profileDir: prof.dir };
}

/**
 * @param {BenchContext} ctx @param {string} baseUrl @param {string} method @param {string} path @param {unknown} body
 */
async function api(ctx, baseUrl, method, path, body) {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ctx.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** A workflow with the bench's one-step definition and its webhook trigger. @param {BenchContext} ctx @param {string} baseUrl */
async function createTarget(ctx, baseUrl) {
  const workflow = await api(ctx, baseUrl, 'POST', '/v1/workflows', {
    name: 'bench: order total',
    definition: { ...BENCH_DEFINITION, ...FLOW_CONTROL[process.env.BENCH_FLOW ?? 'none'] },
  });
  const trigger = await api(ctx, baseUrl, 'POST', `/v1/workflows/${workflow.data.id}/trigger/webhook`, {
    toleranceSeconds: 3600,
  });
  return {
    workflowId: workflow.data.id,
    path: `/webhooks/workflows/${trigger.data.slug}`,
    secret: /** @type {string} */ (trigger.data.secret),
    fallbackPath: '/health/live',
  };
}

/**
 * BENCH_FLOW: flow control added to the bench's definition. `concurrency-100`: one run at a time per key
 * over 100 keys (the events' ids end in 0–99 evenly).
 * @type {Record<string, object>}
 */
const FLOW_CONTROL = {
  none: {},
  'concurrency-100': {
    concurrency: { limit: 1, key: '$number($substringAfter(input.id, "evt_")) % 100', onLimit: 'queue' },
  },
};

/** @param {BenchContext} ctx */
async function cleanState(ctx) {
  await cleanDatabase(ctx.db);
  await cleanRedis(ctx.redisUrl, ctx.prefix);
  // Lets the machine settle (the previous server's exit, PostgreSQL's checkpoint) and waits for other
  // work on it (a build, a test run) to end, within reason.
  await sleep(1000);
  await waitForQuiet(15, ctx.quietWaitMs, ctx.log);
}

/**
 * Samples, every second, the RSS of some processes and (optionally) the backlog of unfinished runs.
 * @param {number[]} pids @param {import('pg').Pool | null} db
 */
function startSampler(pids, db) {
  /** @type {{ t: number, rssMiB: (number | null)[], backlog: number | null }[]} */
  const samples = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const sample = { t: Date.now(), rssMiB: pids.map(rssMiB), backlog: /** @type {number | null} */ (null) };
    samples.push(sample);
    if (!db) {
      busy = false;
      return;
    }
    unfinishedRuns(db).then(
      (n) => {
        sample.backlog = n;
        busy = false;
      },
      () => {
        busy = false;
      },
    );
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/** Transactions committed so far in the bench database. @param {import('pg').Pool} db */
async function commits(db) {
  const { rows } = await db.query(
    'SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0].n);
}

/** @param {{ rssMiB: (number | null)[] }[]} samples */
function peakRss(samples) {
  const values = samples.flatMap((s) => s.rssMiB).filter((v) => v !== null);
  return values.length ? Math.max(.../** @type {number[]} */ (values)) : null;
}

/**
 * Warm-up, then one measured window of closed-loop load at a target.
 * @param {BenchContext} ctx @param {ServerProcess} server
 * @param {{ path: string, secret: string, fallbackPath: string }} target
 * @param {{ overallRate?: number, baseUrls?: string[] }} [options]
 */
async function warmAndMeasure(ctx, server, target, options = {}) {
  if (ctx.warmup > 0) {
    const warm = signedDeliveries(target.secret, poolSize(ctx, ctx.warmup), nextTag());
    await drive({
      baseUrl: server.baseUrl,
      ...target,
      deliveries: warm,
      connections: ctx.connections,
      seconds: ctx.warmup,
      ...options,
    });
  }
  const tag = nextTag();
  const deliveries = signedDeliveries(target.secret, poolSize(ctx, ctx.duration), tag);
  return { tag, deliveries };
}

/**
 * The ingest path alone: hookrun's API process with no worker anywhere.
 * @param {BenchContext} ctx
 */
export async function ingestScenario(ctx) {
  await cleanState(ctx);
  const { server, profileDir } = await startHookrun(ctx, 'api', 'ingest');
  try {
    const target = await createTarget(ctx, server.baseUrl);
    const result = await loadWindow(ctx, server, target);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM workflow_runs');
    const stopped = await stopServer(server, profileDir);
    return { ...result, runsStored: rows[0].n, profile: stopped.profile };
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
}

/** Each baseline's server: the same ingest behind a different HTTP layer (BENCHMARKS.md). */
export const BASELINES = {
  'nest-baseline': { script: 'nest-baseline-server.mjs', args: ['nest'], title: 'minimal NestJS app' },
  'express-baseline': { script: 'nest-baseline-server.mjs', args: ['express'], title: 'minimal express app' },
  'node-baseline': { script: 'plain-node-server.mjs', args: [], title: 'plain node:http server' },
};

/**
 * A baseline server of BASELINES, with the same load as ingest.
 * @param {BenchContext} ctx @param {keyof typeof BASELINES} kind
 */
export async function baselineScenario(ctx, kind) {
  await cleanState(ctx);
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const prof = profileArgs(ctx, kind);
  const server = await startServer({
    name: BASELINES[kind].title,
    script: join(ctx.root, 'bench', BASELINES[kind].script),
    args: BASELINES[kind].args,
    nodeArgs: prof.nodeArgs,
    env: {
      ...process.env,
      DATABASE_URL: ctx.databaseUrl,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: `${ctx.prefix}-baseline`,
      BASELINE_SLUG: 'baseline',
      BASELINE_SECRET: secret,
      BASELINE_TOLERANCE_SECONDS: '3600',
      NODE_ENV: 'production',
    },
    cwd: ctx.root,
    readyPath: '/health',
  });
  try {
    const target = { path: '/webhooks/workflows/baseline', secret, fallbackPath: '/health' };
    const result = await loadWindow(ctx, server, target);
    const { rows } = await ctx.db.query('SELECT count(*)::int AS n FROM bench_baseline_runs');
    const stopped = await stopServer(server, prof.dir);
    return { ...result, baseline: kind, runsStored: rows[0].n, profile: stopped.profile };
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
}

/**
 * Warm-up and one window of load; what ingest and the baselines report.
 * @param {BenchContext} ctx @param {ServerProcess} server @param {{ path: string, secret: string, fallbackPath: string }} target
 */
async function loadWindow(ctx, server, target) {
  const { deliveries } = await warmAndMeasure(ctx, server, target);
  const sampler = startSampler([server.pid], null);
  const cpu = cpuMeter([server.pid]);
  const load = await drive({
    baseUrl: server.baseUrl,
    ...target,
    deliveries,
    connections: ctx.connections,
    seconds: ctx.duration,
  });
  const usage = cpu.end();
  const samples = sampler.stop();
  return {
    acceptedPerSec: round(load.accepted / load.seconds),
    latencyMs: load.latency,
    accepted: load.accepted,
    non202: load.non202,
    statusCodes: load.statusCodes,
    errors: load.errors,
    timeouts: load.timeouts,
    seconds: load.seconds,
    deliveriesRanOut: load.exhausted,
    serverCpuPct: usage.processCpuPct,
    serverCpuMsPerRequest: load.accepted ? round(((usage.processCpuSeconds ?? 0) * 1000) / load.accepted, 3) : null,
    // System calls are expensive on a VM: how many the server makes per accepted delivery.
    serverWriteSyscallsPerRequest: load.accepted ? round(usage.writeSyscalls / load.accepted, 2) : null,
    serverReadSyscallsPerRequest: load.accepted ? round(usage.readSyscalls / load.accepted, 2) : null,
    machineBusyPct: usage.machineBusyPct,
    servicesCpuPct: usage.servicesCpuPct,
    foreignCpuPct: usage.foreignCpuPct,
    peakRssMiB: peakRss(samples),
  };
}

/**
 * Waits until no run is unfinished; gives up when the backlog has not shrunk for `stallMs` (or after
 * `maxMs`, ten minutes by default). True when drained.
 * @param {BenchContext} ctx @param {number} stallMs @param {number} [maxMs]
 */
async function waitForDrain(ctx, stallMs, maxMs = 600_000) {
  const deadline = Date.now() + maxMs;
  let best = Infinity;
  let progressAt = Date.now();
  while (Date.now() < deadline) {
    const left = await unfinishedRuns(ctx.db);
    if (left === 0) return true;
    if (left < best) {
      best = left;
      progressAt = Date.now();
    } else if (Date.now() - progressAt > stallMs) {
      return false;
    }
    await sleep(250);
  }
  return false;
}

/**
 * Latencies of the runs a window started (its webhook ids start with the tag): from the runs' own
 * timestamps (created_at → completed_at) and from the moment the request was sent (→ completed_at).
 * @param {BenchContext} ctx @param {string} tag @param {import('./signing.mjs').Delivery[]} deliveries
 */
async function runLatencies(ctx, tag, deliveries) {
  const { rows } = await ctx.db.query(
    `SELECT webhook_id, status,
            extract(epoch FROM created_at) * 1000 AS created_ms,
            extract(epoch FROM completed_at) * 1000 AS completed_ms
       FROM workflow_runs WHERE starts_with(webhook_id, $1)`,
    [`msg_${tag}_`],
  );
  const sentAt = new Map();
  for (const d of deliveries) if (d.sentAt) sentAt.set(d.id, d.sentAt);
  /** @type {number[]} */
  const fromRun = [];
  /** @type {number[]} */
  const fromPost = [];
  /** @type {Record<string, number>} */
  const statuses = {};
  for (const row of rows) {
    // Only the deliveries measured (a warm-up delivery of the same tag has no send time).
    const sent = sentAt.get(row.webhook_id);
    if (sent === undefined) continue;
    statuses[row.status] = (statuses[row.status] ?? 0) + 1;
    if (row.status !== 'completed' || row.completed_ms === null) continue;
    fromRun.push(Number(row.completed_ms) - Number(row.created_ms));
    fromPost.push(Number(row.completed_ms) - sent);
  }
  return {
    runs: Object.values(statuses).reduce((a, b) => a + b, 0),
    statuses,
    fromRun: summarize(fromRun),
    fromPost: summarize(fromPost),
  };
}

/**
 * API and worker in one process: runs completed per second while the load lasts, whether the backlog
 * grew, and how long a delivery takes to become a completed run.
 * @param {BenchContext} ctx
 */
export async function e2eScenario(ctx, split = false) {
  await cleanState(ctx);
  const label = split ? 'e2e-split' : 'e2e';
  const apiCount = split ? ctx.apis : 1;
  const workerCount = split ? ctx.workers : 0;
  const { server, profileDir } = await startHookrun(ctx, split ? 'api' : 'all', label);
  /** @type {{ server: ServerProcess, profileDir: string | null }[]} */
  const others = [];
  try {
    for (let i = 1; i < apiCount; i++) others.push(await startHookrun(ctx, 'api', `${label}-api${i + 1}`));
    for (let i = 0; i < workerCount; i++) others.push(await startHookrun(ctx, 'worker', `${label}-worker${i + 1}`));
    const pids = [server.pid, ...others.map((o) => o.server.pid)];
    const baseUrls = [server.baseUrl, ...others.slice(0, apiCount - 1).map((o) => o.server.baseUrl)];
    const target = await createTarget(ctx, server.baseUrl);
    const rate = ctx.e2eRate ? { overallRate: ctx.e2eRate } : {};
    const { tag, deliveries } = await warmAndMeasure(ctx, server, target, { ...rate, baseUrls });
    await waitForDrain(ctx, 30_000);
    const backlogStart = await unfinishedRuns(ctx.db);
    const sampler = startSampler(pids, ctx.db);
    const commitsBefore = await commits(ctx.db);
    const cpu = cpuMeter(pids);
    const load = await drive({
      baseUrl: server.baseUrl,
      baseUrls,
      ...target,
      deliveries,
      connections: ctx.connections,
      seconds: ctx.duration,
      ...rate,
    });
    const usage = cpu.end();
    const commitsDuring = (await commits(ctx.db)) - commitsBefore;
    const backlogEnd = await unfinishedRuns(ctx.db);
    const samples = sampler.stop();
    const { rows } = await ctx.db.query(
      `SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'completed' AND completed_at >= $1 AND completed_at < $2`,
      [load.start, load.end],
    );
    const drained = await waitForDrain(ctx, 30_000);
    const latencies = await runLatencies(ctx, tag, deliveries);
    const stopped = await stopServer(server, profileDir);
    const othersStopped = [];
    for (const other of others) othersStopped.push(await stopServer(other.server, other.profileDir));
    const growth = backlogEnd - backlogStart;
    const backlogs = samples.map((s) => s.backlog).filter((b) => b !== null);
    return {
      completedPerSec: round(rows[0].n / load.seconds),
      acceptedPerSec: round(load.accepted / load.seconds),
      // Sustained: the worker kept up, the queue did not grow beyond what is in flight.
      sustained: growth <= Math.max(100, 0.02 * load.accepted),
      backlog: {
        start: backlogStart,
        end: backlogEnd,
        growth,
        max: backlogs.length ? Math.max(.../** @type {number[]} */ (backlogs)) : null,
      },
      postToCompletedMs: latencies.fromRun,
      sentToCompletedMs: latencies.fromPost,
      runStatuses: latencies.statuses,
      drained,
      httpLatencyMs: load.latency,
      accepted: load.accepted,
      non202: load.non202,
      statusCodes: load.statusCodes,
      seconds: load.seconds,
      deliveriesRanOut: load.exhausted,
      openLoopRate: ctx.e2eRate ?? null,
      serverCpuPct: usage.processCpuPct,
      machineBusyPct: usage.machineBusyPct,
      servicesCpuPct: usage.servicesCpuPct,
      foreignCpuPct: usage.foreignCpuPct,
      serverWriteSyscallsPerRun: rows[0].n ? round(usage.writeSyscalls / rows[0].n, 2) : null,
      // Transactions committed in the bench database per run completed (the processes batch their own writes only).
      pgCommitsPerRun: rows[0].n ? round(commitsDuring / rows[0].n, 2) : null,
      peakRssMiB: peakRss(samples),
      processes: split ? `${apiCount} api + ${workerCount} worker` : 'all',
      profile: [
        ...(stopped.profile ?? []),
        ...othersStopped.flatMap((o, i) =>
          (o.profile ?? []).map((p) => ({ ...p, file: `process${i + 2}/${p.file.split('/').pop()}` })),
        ),
      ],
    };
  } catch (error) {
    await server.stop('SIGKILL');
    for (const other of others) await other.server.stop('SIGKILL');
    throw error;
  }
}

/**
 * One delivery at a time on an idle system: each is sent once the previous run has completed.
 * @param {BenchContext} ctx
 */
export async function idleLatencyScenario(ctx) {
  await cleanState(ctx);
  const { server, profileDir } = await startHookrun(ctx, 'all', 'idle-latency');
  try {
    const target = await createTarget(ctx, server.baseUrl);
    const warmupCount = 20;
    const tag = nextTag();
    const deliveries = signedDeliveries(target.secret, ctx.idleRequests + warmupCount, tag);
    /** @type {number[]} */
    const http = [];
    let non202 = 0;
    let timedOut = 0;
    const deadline = Date.now() + Math.max(ctx.duration, 1) * 1000;
    let measured = 0;
    const cpu = cpuMeter([server.pid]);
    for (let i = 0; i < deliveries.length; i++) {
      const warm = i < warmupCount;
      if (!warm && measured >= 10 && Date.now() > deadline) break;
      const answer = await postOne(server.baseUrl, target.path, deliveries[i]);
      if (warm) deliveries[i].sentAt = 0;
      else {
        measured += 1;
        http.push(answer.ms);
      }
      if (answer.status !== 202) {
        non202 += 1;
        continue;
      }
      if (!(await waitForRun(ctx, answer.body.data.runId, 10_000))) timedOut += 1;
    }
    const usage = cpu.end();
    const latencies = await runLatencies(ctx, tag, deliveries);
    // The same deliveries with ?wait=: the answer comes when the run has ended, told by PostgreSQL's NOTIFY.
    const waitTag = nextTag();
    const waited = signedDeliveries(target.secret, Math.min(measured, 200) + warmupCount, waitTag);
    /** @type {number[]} */
    const waitHttp = [];
    let waitNon200 = 0;
    for (let i = 0; i < waited.length; i++) {
      const answer = await postOne(server.baseUrl, `${target.path}?wait=10`, waited[i]);
      if (i < warmupCount) waited[i].sentAt = 0;
      else if (answer.status === 200) waitHttp.push(answer.ms);
      else waitNon200 += 1;
    }
    const waitedLatencies = await runLatencies(ctx, waitTag, waited);
    const stopped = await stopServer(server, profileDir);
    return {
      waitAnswerMs: summarize(waitHttp),
      waitSentToCompletedMs: waitedLatencies.fromPost,
      waitNon200,
      requests: measured,
      foreignCpuPct: usage.foreignCpuPct,
      postToCompletedMs: latencies.fromRun,
      sentToCompletedMs: latencies.fromPost,
      httpLatencyMs: summarize(http),
      non202,
      notCompletedIn10s: timedOut,
      profile: stopped.profile,
    };
  } catch (error) {
    await server.stop('SIGKILL');
    throw error;
  }
}

/** Polls a run's status until it is terminal. @param {BenchContext} ctx @param {string} runId @param {number} timeoutMs */
async function waitForRun(ctx, runId, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await ctx.db.query('SELECT status FROM workflow_runs WHERE id = $1', [runId]);
    const status = rows[0]?.status;
    if (status === 'completed' || status === 'failed' || status === 'cancelled') return true;
    await sleep(2);
  }
  return false;
}

/**
 * e2e for `seconds`, in windows of `windowSeconds`, in one hookrun process whose RSS is sampled every
 * `rssIntervalSeconds`. Reports each window's throughput and latency, and the RSS series with its drift.
 * @param {BenchContext} ctx @param {{ seconds: number, windowSeconds: number, rssIntervalSeconds: number }} options
 */
export async function soakScenario(ctx, options) {
  await cleanState(ctx);
  const { server, profileDir } = await startHookrun(ctx, 'all', 'soak');
  /** @type {{ atSeconds: number, rssMiB: number | null }[]} */
  const rss = [];
  const startedAt = Date.now();
  const rssTimer = setInterval(() => {
    rss.push({ atSeconds: Math.round((Date.now() - startedAt) / 100) / 10, rssMiB: rssMiB(server.pid) });
  }, options.rssIntervalSeconds * 1000);
  try {
    rss.push({ atSeconds: 0, rssMiB: rssMiB(server.pid) });
    const target = await createTarget(ctx, server.baseUrl);
    const rate = ctx.e2eRate ? { overallRate: ctx.e2eRate } : {};
    /** @type {any[]} */
    const windows = [];
    while (Date.now() - startedAt < options.seconds * 1000) {
      const seconds = Math.min(
        options.windowSeconds,
        Math.max(1, Math.ceil(options.seconds - (Date.now() - startedAt) / 1000)),
      );
      const tag = nextTag();
      const deliveries = signedDeliveries(target.secret, poolSize(ctx, seconds), tag);
      const load = await drive({
        baseUrl: server.baseUrl,
        ...target,
        deliveries,
        connections: ctx.connections,
        seconds,
        ...rate,
      });
      const backlog = await unfinishedRuns(ctx.db);
      const rssNow = rssMiB(server.pid);
      windows.push({
        tag,
        deliveries,
        start: load.start,
        end: load.end,
        fromSeconds: (load.start.getTime() - startedAt) / 1000,
        toSeconds: (load.end.getTime() - startedAt) / 1000,
        seconds: load.seconds,
        accepted: load.accepted,
        non202: load.non202,
        backlogEnd: backlog,
        httpP99: load.latency.p99,
      });
      ctx.log(
        `  soak window ${windows.length}: ${round(load.accepted / load.seconds)} accepted/s, backlog ${backlog}, RSS ${rssNow} MiB`,
      );
    }
    clearInterval(rssTimer);
    rss.push({ atSeconds: Math.round((Date.now() - startedAt) / 100) / 10, rssMiB: rssMiB(server.pid) });
    const drained = await waitForDrain(ctx, 30_000, 120_000);
    const perWindow = [];
    for (const w of windows) {
      const { rows } = await ctx.db.query(
        `SELECT count(*)::int AS n FROM workflow_runs WHERE status = 'completed' AND completed_at >= $1 AND completed_at < $2`,
        [w.start, w.end],
      );
      const latencies = await runLatencies(ctx, w.tag, w.deliveries);
      const inWindow = rss
        .filter((r) => r.rssMiB !== null && r.atSeconds >= w.fromSeconds && r.atSeconds <= w.toSeconds)
        .map((r) => /** @type {number} */ (r.rssMiB));
      perWindow.push({
        seconds: w.seconds,
        acceptedPerSec: round(w.accepted / w.seconds),
        completedPerSec: round(rows[0].n / w.seconds),
        backlogEnd: w.backlogEnd,
        postToCompletedP50: latencies.fromRun.p50,
        postToCompletedP99: latencies.fromRun.p99,
        httpP99: w.httpP99,
        non202: w.non202,
        rssMedianMiB: inWindow.length ? round(/** @type {number} */ (median(inWindow))) : null,
        rssMaxMiB: inWindow.length ? inWindow.reduce((a, b) => (b > a ? b : a), 0) : null,
      });
    }
    const stopped = await stopServer(server, profileDir);
    return {
      seconds: options.seconds,
      windows: perWindow,
      drained,
      rss: rssSummary(rss, perWindow, windows[0]?.toSeconds ?? 0),
      profile: stopped.profile,
    };
  } catch (error) {
    clearInterval(rssTimer);
    await server.stop('SIGKILL');
    throw error;
  }
}

/**
 * RSS over the soak. RSS follows the V8 heap in a sawtooth (the young generation fills and empties, the
 * old one grows until a major collection), and its period can be as long as a window, so one window's
 * median is a phase of that sawtooth, not a level. "Flat (± 10 %)" is therefore read as: every window's
 * median within 10 % of the median of all of them (after the first window, which is warm-up: JIT,
 * connection pools, the heap finding its size). Also reported: the drift from the first window after
 * warm-up to the last, and the least-squares trend over the samples after the first window, which is
 * what a leak would show.
 * @param {{ atSeconds: number, rssMiB: number | null }[]} samples
 * @param {{ rssMedianMiB: number | null }[]} windows @param {number} warmSeconds
 */
function rssSummary(samples, windows, warmSeconds) {
  const values = samples.map((s) => s.rssMiB).filter((v) => v !== null);
  const allMedians = windows.map((w) => w.rssMedianMiB).filter((v) => v !== null);
  const medians = allMedians.length >= 3 ? allMedians.slice(1) : allMedians;
  const first = medians[0] ?? null;
  const last = medians[medians.length - 1] ?? null;
  const reference = medians.length ? /** @type {number} */ (median(medians)) : null;
  const after = samples.filter((s) => s.rssMiB !== null && s.atSeconds >= warmSeconds);
  let slope = null;
  if (after.length >= 3) {
    const n = after.length;
    const mx = after.reduce((a, s) => a + s.atSeconds, 0) / n;
    const my = after.reduce((a, s) => a + /** @type {number} */ (s.rssMiB), 0) / n;
    const sxy = after.reduce((a, s) => a + (s.atSeconds - mx) * /** @type {number} */ (s.rssMiB - my), 0);
    const sxx = after.reduce((a, s) => a + (s.atSeconds - mx) ** 2, 0);
    slope = sxx > 0 ? (sxy / sxx) * 600 : null;
  }
  const deviations = reference ? medians.map((m) => (Math.abs(m - reference) / reference) * 100) : [];
  const maxWindowDeviation = deviations.length ? deviations.reduce((a, b) => (b > a ? b : a), 0) : null;
  return {
    firstSampleMiB: values[0] ?? null,
    firstWindowMedianMiB: allMedians[0] ?? null,
    /** The first window after warm-up (1-based), where the drift is measured from. */
    driftFromWindow: allMedians.length >= 3 ? 2 : 1,
    driftFromMedianMiB: first,
    lastWindowMedianMiB: last,
    /** Median of the window medians after warm-up: the level every window is compared with. */
    referenceMedianMiB: reference,
    minMiB: values.length ? values.reduce((a, b) => (b < a ? b : a), Infinity) : null,
    maxMiB: values.length ? values.reduce((a, b) => (b > a ? b : a), 0) : null,
    driftPct: first && last ? round(((last - first) / first) * 100) : null,
    // The "flat (± 10 %)": every window after warm-up against the median of them all.
    maxWindowDeviationPct: maxWindowDeviation === null ? null : round(maxWindowDeviation),
    trendMiBPer10Min: slope === null ? null : round(slope),
    flat: maxWindowDeviation !== null && maxWindowDeviation <= 10,
    samples,
  };
}

/** @param {number} v @param {number} [digits] */
function round(v, digits = 1) {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
