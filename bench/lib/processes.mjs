// Starting and watching the servers under test: hookrun's built app and the baselines, as child processes.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/**
 * @typedef {object} ServerProcess
 * @property {string} name
 * @property {import('node:child_process').ChildProcess} child
 * @property {number} pid
 * @property {string} baseUrl
 * @property {() => string} output last lines it wrote
 * @property {(signal?: NodeJS.Signals) => Promise<number | null>} stop
 */

/**
 * The Node.js flags hookrun runs under (package.json's `hookrun.nodeFlags`, the same that `npm start`, the
 * Dockerfile and docker-compose.yml pass): hookrun is measured as it is started.
 * @param {string} appDir a hookrun checkout
 * @returns {string[]}
 */
export function hookrunNodeFlags(appDir) {
  const pkg = JSON.parse(readFileSync(join(appDir, 'package.json'), 'utf8'));
  return Array.isArray(pkg.hookrun?.nodeFlags) ? pkg.hookrun.nodeFlags : [];
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

/**
 * Spawns `node <nodeArgs> <script> <args>` with PORT/HOST set, and waits until `readyPath` answers 2xx.
 * @param {{ name: string, script: string, args?: string[], nodeArgs?: string[], env: Record<string, string | undefined>,
 *   cwd: string, readyPath: string, readyTimeoutMs?: number }} options
 * @returns {Promise<ServerProcess>}
 */
export async function startServer(options) {
  const port = await freePort();
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  /** @type {string[]} */
  const lines = [];
  const keep = (/** @type {Buffer} */ chunk) => {
    lines.push(chunk.toString());
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'close').then(([code]) => /** @type {number | null} */ (code));
  const baseUrl = `http://127.0.0.1:${port}`;
  /** @type {ServerProcess} */
  const proc = {
    name: options.name,
    child,
    pid: /** @type {number} */ (child.pid),
    baseUrl,
    output: () => lines.join(''),
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      }
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }, 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`${options.name} exited with ${child.exitCode} before it was ready:\n${proc.output()}`);
    }
    try {
      const res = await fetch(`${baseUrl}${options.readyPath}`);
      if (res.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`${options.name} was not ready within the timeout:\n${proc.output()}`);
    }
    await sleep(200);
  }
  return proc;
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resident set size of a process in MiB, from /proc/<pid>/status (null when unavailable).
 * @param {number} pid
 */
export function rssMiB(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; null when unavailable.
 * @param {number} pid
 */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command name: state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineTicks() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Read and write system calls a process has made so far, from /proc/<pid>/io; null when unavailable.
 * @param {number} pid
 */
export function syscalls(pid) {
  try {
    const io = readFileSync(`/proc/${pid}/io`, 'utf8');
    return { reads: Number(/syscr: (\d+)/.exec(io)?.[1]), writes: Number(/syscw: (\d+)/.exec(io)?.[1]) };
  } catch {
    return null;
  }
}

/**
 * CPU seconds of every process on the machine, by pid, with its command name.
 * @returns {Map<number, { comm: string, service: boolean, cpu: number }>}
 */
export function processTable() {
  /** @type {Map<number, { comm: string, service: boolean, cpu: number }>} */
  const table = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      let service = SERVICE_COMMANDS.test(comm);
      if (comm === 'postgres') {
        // A backend names its database ("postgres: user db host state"): one of another database
        // (a test run's) is other work; the server's own processes and our backends are the service.
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
        const db = /^postgres: (?:\S+: )?\S+ (\S+) [^ ]*\(\d+\)/.exec(cmdline)?.[1];
        service = db === undefined || db === benchDatabase;
      }
      table.set(Number(entry), { comm, service, cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND });
    } catch {
      // Gone meanwhile.
    }
  }
  return table;
}

/** The services every scenario uses; their CPU is part of the measurement, not interference. */
const SERVICE_COMMANDS = /^(postgres|redis-server)/;
let benchDatabase = '';

/** The database the bench uses: PostgreSQL backends of other databases count as other work. @param {string} name */
export function setBenchDatabase(name) {
  benchDatabase = name;
}

/**
 * CPU used by processes other than ours (the bench, the servers under test, PostgreSQL, Redis)
 * between two process tables, in % of one core: other work on the machine that skews the figures.
 * @param {ReturnType<typeof processTable>} before @param {ReturnType<typeof processTable>} after
 * @param {number[]} ours @param {number} seconds
 */
export function foreignCpuPct(before, after, ours, seconds) {
  let used = 0;
  for (const [pid, p] of after) {
    if (ours.includes(pid) || p.service) continue;
    used += p.cpu - (before.get(pid)?.cpu ?? 0);
  }
  return Math.round((used / seconds) * 1000) / 10;
}

/**
 * CPU (% of one core) of the services and of the bench itself between two process tables: where the
 * machine's two cores went besides the server under test.
 * @param {ReturnType<typeof processTable>} before @param {ReturnType<typeof processTable>} after @param {number} seconds
 */
export function serviceCpuPct(before, after, seconds) {
  const sums = { postgres: 0, redis: 0, loadGenerator: 0 };
  for (const [pid, p] of after) {
    const used = p.cpu - (before.get(pid)?.cpu ?? 0);
    if (pid === process.pid) sums.loadGenerator += used;
    else if (p.service && p.comm === 'postgres') sums.postgres += used;
    else if (p.service && p.comm.startsWith('redis-server')) sums.redis += used;
  }
  const pct = (/** @type {number} */ v) => Math.round((v / seconds) * 1000) / 10;
  return { postgres: pct(sums.postgres), redis: pct(sums.redis), loadGenerator: pct(sums.loadGenerator) };
}

/**
 * Waits (up to `maxWaitMs`) until other processes use less than `thresholdPct` of a core over 2 s,
 * so that a measurement does not start while something else (a build, a test run) is busy.
 * Returns the last reading.
 * @param {number} thresholdPct @param {number} maxWaitMs @param {(line: string) => void} log
 */
export async function waitForQuiet(thresholdPct, maxWaitMs, log) {
  const deadline = Date.now() + maxWaitMs;
  let told = false;
  for (;;) {
    const before = processTable();
    await sleep(2000);
    const pct = foreignCpuPct(before, processTable(), [process.pid], 2);
    if (pct < thresholdPct || Date.now() > deadline) {
      if (told) log(`  machine quiet enough (${pct} % of a core used by other processes)`);
      return pct;
    }
    if (!told) {
      log(`  other processes use ${pct} % of a core: waiting for them (up to ${Math.round(maxWaitMs / 1000)} s)`);
      told = true;
    }
  }
}

/**
 * Starts measuring CPU use of some processes and of the machine; `end()` gives seconds and percentages.
 * @param {number[]} pids
 */
export function cpuMeter(pids) {
  const start = Date.now();
  const before = pids.map(cpuSeconds);
  const machineBefore = machineTicks();
  const tableBefore = processTable();
  const ioBefore = pids.map(syscalls);
  return {
    end() {
      const ioAfter = pids.map(syscalls);
      const tableAfter = processTable();
      let reads = 0;
      let writes = 0;
      ioAfter.forEach((io, i) => {
        const b = ioBefore[i];
        if (io && b) {
          reads += io.reads - b.reads;
          writes += io.writes - b.writes;
        }
      });
      const seconds = (Date.now() - start) / 1000;
      const used = pids.map((pid, i) => {
        const after = cpuSeconds(pid);
        return after === null || before[i] === null ? null : after - /** @type {number} */ (before[i]);
      });
      const processCpuSeconds = used.every((u) => u === null) ? null : used.reduce((a, b) => (a ?? 0) + (b ?? 0), 0);
      const machineAfter = machineTicks();
      const machineBusyPct =
        machineBefore && machineAfter && machineAfter.total > machineBefore.total
          ? Math.round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * 1000) /
            10
          : null;
      return {
        // CPU of processes outside the measurement (neither the bench, the servers, PostgreSQL nor Redis).
        readSyscalls: reads,
        writeSyscalls: writes,
        foreignCpuPct: foreignCpuPct(tableBefore, tableAfter, [...pids, process.pid], seconds),
        // PostgreSQL's, Redis's and the load generator's (this process's) CPU, % of one core.
        servicesCpuPct: serviceCpuPct(tableBefore, tableAfter, seconds),
        processCpuSeconds: processCpuSeconds === null ? null : Math.round(processCpuSeconds * 100) / 100,
        // 100 % = one core.
        processCpuPct: processCpuSeconds === null ? null : Math.round((processCpuSeconds / seconds) * 1000) / 10,
        machineBusyPct,
      };
    },
  };
}
