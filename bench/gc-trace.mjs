// A preload that logs V8's heap spaces and garbage collections every 2 seconds, to see why a
// process's memory moves (which generation grows, how often full collections come, what they cost):
//
//   node --import ./bench/gc-trace.mjs dist/main.js          # or add it to a variant's nodeFlags
//
// One line per interval, appended to GC_TRACE_FILE (default /tmp/hookrun-gc-<pid>.txt): seconds since
// start, RSS, new and old space (committed/used MiB), and the number and total pause of minor
// (scavenge) and major (mark-compact) collections in the interval. Measuring only: nothing in
// hookrun loads it.
import { appendFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.GC_TRACE_FILE ?? `/tmp/hookrun-gc-${process.pid}.txt`;
const MiB = 1024 * 1024;
const started = Date.now();
const counts = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = /** @type {{ kind?: number }} */ (entry.detail)?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) {
      counts.minor++;
      counts.minorMs += entry.duration;
    } else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
      counts.major++;
      counts.majorMs += entry.duration;
    }
  }
}).observe({ entryTypes: ['gc'] });

setInterval(() => {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  const space = (/** @type {string} */ name) =>
    `${Math.round(spaces[name].space_size / MiB)}/${Math.round(spaces[name].space_used_size / MiB)}`;
  appendFileSync(
    file,
    `${Math.round((Date.now() - started) / 1000)}s rss ${Math.round(process.memoryUsage.rss() / MiB)} ` +
      `new ${space('new_space')} old ${space('old_space')} | minor ${counts.minor} (${counts.minorMs.toFixed(0)} ms) ` +
      `major ${counts.major} (${counts.majorMs.toFixed(0)} ms)\n`,
  );
  counts.minor = counts.minorMs = counts.major = counts.majorMs = 0;
}, 2000).unref();
