#!/usr/bin/env node
// Prints where a CPU profile's busy time went: `node bench/profile-summary.mjs <file.cpuprofile> [top]`.
import { summarizeProfile } from './lib/profile.mjs';

const [file, top] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile> [top]');
  process.exit(2);
}
const s = summarizeProfile(file, { top: Number(top ?? 25) });
console.log(`${file}\nwall ${s.wallMs} ms, busy ${s.busyMs} ms (${s.busyPct} %)\n`);
const table = (
  /** @type {string} */ title,
  /** @type {{ area?: string, function?: string, ms: number, pctOfBusy: number }[]} */ rows,
) => {
  console.log(`${title}\n${'-'.repeat(title.length)}`);
  for (const r of rows)
    console.log(`${String(r.pctOfBusy).padStart(5)} %  ${String(r.ms).padStart(9)} ms  ${r.function ?? r.area}`);
  console.log('');
};
table('Self time by area', s.selfByArea);
table('Inclusive time by area (an area counted once per sample)', s.inclusiveByArea);
table('Self time by function', s.topFunctions);
