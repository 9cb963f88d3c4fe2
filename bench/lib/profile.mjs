// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: by area (npm package, hookrun
// folder, node internals, GC) and by function, in self time, plus inclusive time by area.
import { readFileSync } from 'node:fs';

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }} ProfileNode
 */

/** @param {ProfileNode['callFrame']} frame */
export function areaOf(frame) {
  const name = frame.functionName;
  if (name === '(garbage collector)') return '(gc)';
  if (name === '(idle)') return '(idle)';
  if (name === '(program)') return '(program)';
  if (name === '(root)') return '(root)';
  const url = frame.url.replace(/^file:\/\//, '');
  if (!url) return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) {
    const rel = url.slice(dist + '/dist/'.length).split('/');
    return `hookrun/${rel.length > 2 ? rel.slice(0, 2).join('/') : rel.length === 2 ? rel[0] : rel[0].replace(/\.js$/, '')}`;
  }
  if (url.includes('/bench/')) return `bench/${url.slice(url.lastIndexOf('/') + 1)}`;
  if (url.startsWith('node:')) {
    const rest = url.slice('node:'.length);
    const parts = rest.split('/');
    return parts[0] === 'internal' ? `node:${parts[1] ?? 'internal'}` : `node:${parts[0]}`;
  }
  return url;
}

/**
 * @param {string} file
 * @param {{ top?: number }} [options]
 */
export function summarizeProfile(file, options = {}) {
  const top = options.top ?? 20;
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  /** @type {ProfileNode[]} */
  const nodes = profile.nodes;
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  /** @type {number[]} */
  const samples = profile.samples;
  /** @type {number[]} */
  const deltas = profile.timeDeltas;
  /** @type {Map<number, number>} */
  const selfUs = new Map();
  const meanDelta = deltas.length ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = i + 1 < deltas.length ? deltas[i + 1] : meanDelta;
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, dt));
  }
  let totalUs = 0;
  let idleUs = 0;
  /** @type {Map<string, number>} */
  const selfByArea = new Map();
  /** @type {Map<string, number>} */
  const inclusiveByArea = new Map();
  /** @type {Map<string, { ms: number, area: string }>} */
  const byFunction = new Map();
  for (const [id, us] of selfUs) {
    const node = /** @type {ProfileNode} */ (byId.get(id));
    const area = areaOf(node.callFrame);
    totalUs += us;
    if (area === '(idle)') {
      idleUs += us;
      continue;
    }
    selfByArea.set(area, (selfByArea.get(area) ?? 0) + us);
    const frame = node.callFrame;
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName || '(anonymous)'} ${where}`;
    const entry = byFunction.get(key) ?? { ms: 0, area };
    entry.ms += us;
    byFunction.set(key, entry);
    // Inclusive: every area on the stack gets the sample once.
    const seen = new Set();
    for (let cur = /** @type {number | undefined} */ (id); cur !== undefined; cur = parent.get(cur)) {
      const a = areaOf(/** @type {ProfileNode} */ (byId.get(cur)).callFrame);
      if (a === '(root)' || seen.has(a)) continue;
      seen.add(a);
      inclusiveByArea.set(a, (inclusiveByArea.get(a) ?? 0) + us);
    }
  }
  const busyUs = totalUs - idleUs;
  const pct = (/** @type {number} */ us) => Math.round((us / (busyUs || 1)) * 1000) / 10;
  const ms = (/** @type {number} */ us) => Math.round(us / 100) / 10;
  const rank = (/** @type {Map<string, number>} */ m) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, ms: ms(us), pctOfBusy: pct(us) }));
  return {
    wallMs: ms(totalUs),
    busyMs: ms(busyUs),
    busyPct: Math.round((busyUs / (totalUs || 1)) * 1000) / 10,
    selfByArea: rank(selfByArea),
    inclusiveByArea: rank(inclusiveByArea),
    topFunctions: [...byFunction.entries()]
      .sort((a, b) => b[1].ms - a[1].ms)
      .slice(0, top)
      .map(([fn, v]) => ({ function: fn, area: v.area, ms: ms(v.ms), pctOfBusy: pct(v.ms) })),
  };
}
