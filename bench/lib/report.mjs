// The results as a markdown table: hookrun, the baselines, the ratios, the issue's targets.
import { fixed } from './stats.mjs';

export const TARGETS = {
  ingestRatio: 0.9,
  ingestP99Ms: 60,
  e2eRunsPerSec: 700,
  e2eP99Ms: 150,
  idleP50Ms: 15,
  rssDriftPct: 10,
};

/** @param {boolean | null} met */
const yesNo = (met) => (met === null ? '–' : met ? 'yes' : '**no**');
/** @param {any} l */
const lat3 = (l) => (l ? `${fixed(l.p50)} / ${fixed(l.p99)} / ${fixed(l.p999)}` : '–');
/** @param {any} l */
const lat2 = (l) => (l ? `${fixed(l.p50)} / ${fixed(l.p99)}` : '–');
/** @param {number | null | undefined} a @param {number | null | undefined} b */
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? (a / b).toFixed(2) : '–');

/** The baselines in the order the table shows them, with their column titles. */
export const BASELINE_TITLES = [
  ['nest-baseline', 'minimal NestJS app'],
  ['node-baseline', 'plain node:http server'],
  ['express-baseline', 'minimal express app'],
];

/**
 * hookrun ÷ a baseline's accepted/s of each run that measured both, and their median. Each pair ran minutes
 * apart at most, so a machine whose speed drifts between runs (a shared VM) moves both sides of a pair
 * alike: the median of the pairs is steadier than the ratio of the two medians.
 * @param {Record<string, any>[]} runs
 * @param {string} [baseline]
 * @returns {{ perRun: number[], median: number } | null}
 */
export function pairedIngestRatio(runs, baseline = 'nest-baseline') {
  const perRun = runs
    .filter((r) => r.ingest?.acceptedPerSec > 0 && r[baseline]?.acceptedPerSec > 0)
    .map((r) => Math.round((100 * r.ingest.acceptedPerSec) / r[baseline].acceptedPerSec) / 100);
  if (perRun.length === 0) return null;
  const sorted = [...perRun].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : Math.round(((sorted[mid - 1] + sorted[mid]) / 2) * 100) / 100;
  return { perRun, median };
}

/**
 * Whether each target is met by the (median) results; null when the scenario did not run. The ingest
 * ratio is the median of the paired per-run ratios when given, else the ratio of the medians.
 * @param {any} m
 * @param {number | null} [pairedRatio]
 */
export function evaluateTargets(m, pairedRatio = null) {
  const ingest = m.ingest;
  const base = m['nest-baseline'];
  return {
    ingestThroughput:
      ingest && base ? (pairedRatio ?? ingest.acceptedPerSec / base.acceptedPerSec) >= TARGETS.ingestRatio : null,
    ingestP99: ingest ? ingest.latencyMs.p99 <= TARGETS.ingestP99Ms : null,
    e2eThroughput: m.e2e ? m.e2e.completedPerSec >= TARGETS.e2eRunsPerSec && m.e2e.sustained : null,
    e2eP99: m.e2e ? m.e2e.postToCompletedMs.p99 !== null && m.e2e.postToCompletedMs.p99 <= TARGETS.e2eP99Ms : null,
    idleP50: m['idle-latency']
      ? m['idle-latency'].postToCompletedMs.p50 !== null && m['idle-latency'].postToCompletedMs.p50 <= TARGETS.idleP50Ms
      : null,
    soakRssFlat: m.soak ? m.soak.rss.flat : null,
  };
}

/**
 * @param {{ median: any, runs: any[], soak: any, machine: any, options: any, label: string, app: any, startedAt: string }} results
 */
export function markdownReport(results) {
  const m = results.median;
  const paired = pairedIngestRatio(results.runs ?? []);
  const met = evaluateTargets({ ...m, soak: results.soak }, paired?.median ?? null);
  const baselines = BASELINE_TITLES.filter(([key]) => m[key]);
  const head = [
    'Scenario',
    'Metric',
    'hookrun',
    ...baselines.map(([, title]) => title),
    ...baselines.map(([, title]) => `hookrun ÷ ${title}`),
    'Target',
    'Met',
  ];
  /** @type {string[][]} */
  const rows = [];
  /** @param {string} scenario @param {string} metric @param {string} value @param {(b: any) => string} baseValue @param {(b: any) => string} ratioOf @param {string} target @param {boolean | null} ok */
  const row = (scenario, metric, value, baseValue, ratioOf, target, ok) =>
    rows.push([
      scenario,
      metric,
      value,
      ...baselines.map(([key]) => baseValue(m[key])),
      ...baselines.map(([key]) => ratioOf(m[key])),
      target,
      yesNo(ok),
    ]);
  const none = () => '';
  const i = m.ingest;
  if (i || baselines.length) {
    row(
      'ingest',
      'accepted/s',
      i ? fixed(i.acceptedPerSec, 0) : '–',
      (b) => fixed(b.acceptedPerSec, 0),
      (b) => ratio(i?.acceptedPerSec, b.acceptedPerSec),
      `≥ ${TARGETS.ingestRatio} × minimal NestJS app`,
      met.ingestThroughput,
    );
    row(
      'ingest',
      'latency p50 / p99 / p99.9 (ms)',
      lat3(i?.latencyMs),
      (b) => lat3(b.latencyMs),
      (b) => `p99 ${ratio(i?.latencyMs.p99, b.latencyMs.p99)}`,
      `p99 ≤ ${TARGETS.ingestP99Ms} ms`,
      met.ingestP99,
    );
    row(
      'ingest',
      'non-202 answers',
      i ? fixed(i.non202, 0) : '–',
      (b) => fixed(b.non202, 0),
      none,
      '0',
      i ? i.non202 === 0 : null,
    );
    row(
      'ingest',
      'server write syscalls per accepted request',
      i ? fixed(i.serverWriteSyscallsPerRequest, 2) : '–',
      (b) => fixed(b.serverWriteSyscallsPerRequest, 2),
      (b) => ratio(i?.serverWriteSyscallsPerRequest, b.serverWriteSyscallsPerRequest),
      '',
      null,
    );
    row(
      'ingest',
      'server CPU ms per accepted request',
      i ? fixed(i.serverCpuMsPerRequest, 3) : '–',
      (b) => fixed(b.serverCpuMsPerRequest, 3),
      (b) => ratio(i?.serverCpuMsPerRequest, b.serverCpuMsPerRequest),
      '',
      null,
    );
  }
  for (const key of ['e2e', 'e2e-split']) {
    const e = m[key];
    if (!e) continue;
    const ok = key === 'e2e';
    row(
      key,
      'runs completed/s',
      `${fixed(e.completedPerSec, 0)} (${e.sustained ? 'sustained' : 'backlog grew'})`,
      none,
      none,
      ok ? `≥ ${TARGETS.e2eRunsPerSec}, sustained` : '',
      ok ? met.e2eThroughput : null,
    );
    row(
      key,
      'accepted/s; backlog start → end',
      `${fixed(e.acceptedPerSec, 0)}; ${fixed(e.backlog.start, 0)} → ${fixed(e.backlog.end, 0)}`,
      none,
      none,
      ok ? 'backlog not growing' : '',
      ok ? e.sustained : null,
    );
    row(
      key,
      'POST→completed p50 / p99 (run timestamps, ms)',
      `${lat2(e.postToCompletedMs)}${e.drained ? '' : ' (backlog not drained: completed runs only)'}`,
      none,
      none,
      ok ? `p99 ≤ ${TARGETS.e2eP99Ms} ms` : '',
      ok ? met.e2eP99 : null,
    );
    row(key, 'sent→completed p50 / p99 (client clock, ms)', lat2(e.sentToCompletedMs), none, none, '', null);
    row(key, 'HTTP latency p50 / p99 / p99.9 (ms)', lat3(e.httpLatencyMs), none, none, '', null);
    row(
      key,
      `hookrun CPU (% of a core; ${e.processes ?? 'all'}); write syscalls; PostgreSQL commits per completed run`,
      `${fixed(e.serverCpuPct, 0)}; ${fixed(e.serverWriteSyscallsPerRun, 1)}; ${fixed(e.pgCommitsPerRun, 2)}`,
      none,
      none,
      '',
      null,
    );
  }
  const idle = m['idle-latency'];
  if (idle) {
    row(
      'idle-latency',
      'POST→completed p50 / p99 (run timestamps, ms)',
      lat2(idle.postToCompletedMs),
      none,
      none,
      `p50 ≤ ${TARGETS.idleP50Ms} ms`,
      met.idleP50,
    );
    row(
      'idle-latency',
      'sent→completed p50 / p99 (client clock, ms)',
      lat2(idle.sentToCompletedMs),
      none,
      none,
      '',
      null,
    );
    row('idle-latency', 'HTTP latency p50 / p99 (ms)', lat2(idle.httpLatencyMs), none, none, '', null);
    if (idle.waitAnswerMs) {
      row('idle-latency', '?wait=10 answer p50 / p99 (client, ms)', lat2(idle.waitAnswerMs), none, none, '', null);
      row(
        'idle-latency',
        '?wait=10 sent→completed p50 / p99 (ms)',
        lat2(idle.waitSentToCompletedMs),
        none,
        none,
        '',
        null,
      );
    }
  }
  const s = results.soak;
  if (s) {
    row(
      'soak',
      `RSS: median of the window medians; window ${s.rss.driftFromWindow} → last window; min–max of samples (MiB), ${s.seconds} s`,
      `${fixed(s.rss.referenceMedianMiB)}; ${fixed(s.rss.driftFromMedianMiB)} → ${fixed(s.rss.lastWindowMedianMiB)}; ${fixed(s.rss.minMiB)}–${fixed(s.rss.maxMiB)}`,
      none,
      none,
      '',
      null,
    );
    row(
      'soak',
      'RSS: largest window off the median of windows (%); drift (%); trend (MiB / 10 min)',
      `${fixed(s.rss.maxWindowDeviationPct)}; ${fixed(s.rss.driftPct)}; ${fixed(s.rss.trendMiBPer10Min)}`,
      none,
      none,
      `± ${TARGETS.rssDriftPct} %`,
      met.soakRssFlat,
    );
  }
  const line = (/** @type {string[]} */ cells) => `| ${cells.join(' | ')} |`;
  const out = [
    `### ${results.label}`,
    '',
    `${results.startedAt} · ${results.machine.summary} · app ${results.app.commit ?? results.app.dir} · ` +
      `${results.options.connections} connections, ${results.options.duration} s windows (${results.options.warmup} s warm-up), ` +
      `${results.options.runs === 1 ? '1 run' : `median of ${results.options.runs} runs`}` +
      (results.options.e2eRate ? `, e2e open loop at ${results.options.e2eRate} req/s` : ''),
    '',
    line(head),
    line(head.map((_, k) => (k >= 2 && k < head.length - 2 ? '--:' : '---'))),
    ...rows.map(line),
  ];
  const foreign = ['ingest', ...baselines.map(([key]) => key), 'e2e', 'e2e-split', 'idle-latency']
    .filter((key) => m[key] && typeof m[key].foreignCpuPct === 'number')
    .map((key) => `${key} ${fixed(m[key].foreignCpuPct, 0)} %`);
  const split = ['ingest', ...baselines.map(([key]) => key), 'e2e', 'e2e-split']
    .filter((key) => m[key]?.servicesCpuPct)
    .map(
      (key) =>
        `${key}: server ${fixed(m[key].serverCpuPct, 0)}, PostgreSQL ${fixed(m[key].servicesCpuPct.postgres, 0)}, Redis ${fixed(m[key].servicesCpuPct.redis, 0)}, load generator ${fixed(m[key].servicesCpuPct.loadGenerator, 0)}`,
    );
  for (const [key, title] of baselines) {
    const pairs = pairedIngestRatio(results.runs ?? [], key);
    if (!pairs || pairs.perRun.length < 2) continue;
    out.push(
      '',
      `hookrun ÷ ${title} accepted/s, run by run (each run measures both, in alternating order): ` +
        `${pairs.perRun.map((r) => r.toFixed(2)).join(', ')}; median ${pairs.median.toFixed(2)} ` +
        `(the table's ratio of the medians: ${ratio(m.ingest?.acceptedPerSec, m[key]?.acceptedPerSec)}).` +
        (key === 'nest-baseline' ? ` "Met" uses the median of the run-by-run ratios.` : ''),
    );
  }
  if (split.length)
    out.push(
      '',
      `Where the CPU went during the windows (% of one core; the machine has ${results.machine.cpus * 100}): ${split.join('; ')}.`,
    );
  if (foreign.length) {
    out.push(
      '',
      `CPU used by other processes during the windows (interference; % of one core): ${foreign.join(', ')}.`,
    );
  }
  if (results.runs.length > 1) {
    out.push(
      '',
      'Each run:',
      '',
      line([
        'run',
        'ingest accepted/s',
        'ingest p99',
        'NestJS app accepted/s',
        'NestJS app p99',
        'node:http accepted/s',
        'node:http p99',
        'e2e completed/s',
        'e2e p99',
        'idle p50',
      ]),
      line(Array(10).fill('--:')),
    );
    results.runs.forEach((r, k) => {
      out.push(
        line([
          String(k + 1),
          fixed(r.ingest?.acceptedPerSec, 0),
          fixed(r.ingest?.latencyMs.p99),
          fixed(r['nest-baseline']?.acceptedPerSec, 0),
          fixed(r['nest-baseline']?.latencyMs.p99),
          fixed(r['node-baseline']?.acceptedPerSec, 0),
          fixed(r['node-baseline']?.latencyMs.p99),
          fixed(r.e2e?.completedPerSec, 0),
          fixed(r.e2e?.postToCompletedMs.p99),
          fixed(r['idle-latency']?.postToCompletedMs.p50),
        ]),
      );
    });
  }
  if (s) {
    out.push(
      '',
      'Soak windows:',
      '',
      line([
        'window',
        'accepted/s',
        'completed/s',
        'backlog at end',
        'POST→completed p50 / p99 (ms)',
        'HTTP p99 (ms)',
        'RSS median / max (MiB)',
      ]),
      line(Array(7).fill('--:')),
    );
    s.windows.forEach((/** @type {any} */ w, /** @type {number} */ k) =>
      out.push(
        line([
          String(k + 1),
          fixed(w.acceptedPerSec, 0),
          fixed(w.completedPerSec, 0),
          String(w.backlogEnd),
          `${fixed(w.postToCompletedP50)} / ${fixed(w.postToCompletedP99)}`,
          fixed(w.httpP99),
          `${fixed(w.rssMedianMiB)} / ${fixed(w.rssMaxMiB)}`,
        ]),
      ),
    );
  }
  return out.join('\n');
}

/**
 * The profile summaries of the results, as markdown (top areas and functions per profiled process).
 * @param {Record<string, any>} byScenario
 */
export function profileReport(byScenario) {
  const out = [];
  for (const [scenario, result] of Object.entries(byScenario)) {
    for (const p of result?.profile ?? []) {
      out.push(`#### ${scenario}: ${p.file.split('/').pop()} (busy ${p.busyMs} ms of ${p.wallMs} ms)`, '');
      out.push(
        '| self time by area | % of busy | | inclusive by area | % of busy |',
        '| --- | --: | --- | --- | --: |',
      );
      for (let k = 0; k < 12; k++) {
        const a = p.selfByArea[k];
        const b = p.inclusiveByArea[k];
        if (!a && !b) break;
        out.push(`| ${a?.area ?? ''} | ${a?.pctOfBusy ?? ''} | | ${b?.area ?? ''} | ${b?.pctOfBusy ?? ''} |`);
      }
      out.push('', '| top functions (self) | area | % of busy |', '| --- | --- | --: |');
      for (const f of p.topFunctions.slice(0, 15)) out.push(`| \`${f.function}\` | ${f.area} | ${f.pctOfBusy} |`);
      out.push('');
    }
  }
  return out.join('\n');
}
