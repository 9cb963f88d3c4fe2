import { afterAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  freePort,
  logMessages,
  PROJECT_ROOT,
  runHookrunToExit,
  startHookrun,
  type HookrunProcess,
} from '../support/processes.js';
import { signedHeaders } from '../support/signing.js';
import { waitUntil } from '../support/wait-for.js';

/** A process is gone when it no longer exists or is a zombie waiting for its parent to reap it. */
function processGone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? true;
  } catch {
    return true;
  }
}

/** The PostgreSQL server processes (not zombies) started on a data folder: `postgres -D <dataDir> ...`. */
function postgresServing(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        return args[args.indexOf('-D') + 1] === dataDir && !processGone(Number(pid));
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

/**
 * The README's one command on a machine with nothing but Node: `npm start` with no DATABASE_URL and no
 * REDIS_URL brings its own PostgreSQL (data under ./.data of the directory it was started from) and
 * queues on it.
 */
describe('npm start with no services (embedded PostgreSQL)', () => {
  const workdir = mkdtempSync(join(tmpdir(), 'hookrun-one-command-'));
  // Like a project folder: as root, PostgreSQL runs as the postgres user, who must be able to enter it.
  chmodSync(workdir, 0o755);
  const started: HookrunProcess[] = [];

  afterAll(async () => {
    for (const proc of started) await proc.stop('SIGKILL');
    const pidFile = join(workdir, '.data', 'postgres', 'postmaster.pid');
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      if (!processGone(pid)) process.kill(pid, 'SIGQUIT');
    }
    rmSync(workdir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>): Promise<HookrunProcess> {
    // `npm --prefix <project> start` run from the temporary directory, as a user runs `npm start`.
    const proc = await startHookrun([], env, {
      cwd: workdir,
      command: ['npm', '--prefix', PROJECT_ROOT, 'start', '--'],
      readyTimeoutMs: 120_000,
    });
    started.push(proc);
    return proc;
  }

  async function stopWithinTenSeconds(proc: HookrunProcess): Promise<void> {
    const pid = Number(readFileSync(join(workdir, '.data', 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(processGone(pid)).toBe(false);
    const exit = proc.stop('SIGTERM');
    let code: number | null | undefined;
    void exit.then((c) => (code = c));
    await waitUntil(async () => code !== undefined && processGone(pid), 10_000, 'hookrun and its PostgreSQL to exit');
    // npm itself ends by the signal it passed on; hookrun says how it ended.
    expect(proc.output()).toContain('hookrun stopped');
    expect(proc.output()).not.toContain('Shutdown failed');
  }

  it('starts, completes a signed webhook run, stops on SIGTERM, and finds the run after a restart', async () => {
    // As at a terminal: the banner with the API key is for the person who typed the command.
    const env = {
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      PORT: String(await freePort()),
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'pretty',
    };
    const first = await start(env);

    // The API key is printed for the person who ran the command, and kept (mode 0600) for the next start.
    const apiKey = /API key:\s+(hr_[A-Za-z0-9_-]+)/.exec(first.output())?.[1];
    expect(apiKey).toBeDefined();
    expect(first.output()).toContain(`${first.baseUrl.replace('127.0.0.1', 'localhost')}/docs`);
    const secretsFile = join(workdir, '.data', 'local', 'secrets.json');
    expect(readFileSync(secretsFile, 'utf8')).toContain(apiKey);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);

    const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown, headers: Record<string, string> = auth) =>
      fetch(`${first.baseUrl}${path}`, {
        method: 'POST',
        headers,
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
    const workflow = (await (
      await post('/v1/workflows', {
        name: 'embedded',
        definition: { steps: [{ id: 'hello', type: 'transform', expression: '"hello " & input.name' }] },
      })
    ).json()) as { data: { id: string } };
    const trigger = (await (await post(`/v1/workflows/${workflow.data.id}/trigger/webhook`, {})).json()) as {
      data: { url: string; secret: string };
    };
    const body = JSON.stringify({ name: 'Ada' });
    const accepted = await post(new URL(trigger.data.url).pathname, body, {
      'content-type': 'application/json',
      ...signedHeaders(trigger.data.secret, body),
    });
    expect(accepted.status).toBe(202);
    const { runId } = ((await accepted.json()) as { data: { runId: string } }).data;

    const readRun = async (baseUrl: string) =>
      (
        (await (await fetch(`${baseUrl}/v1/workflow-runs/${runId}`, { headers: auth })).json()) as {
          data: { status: string; output: unknown };
        }
      ).data;
    await waitUntil(async () => (await readRun(first.baseUrl)).status === 'completed', 20_000, 'the run to complete');
    expect((await readRun(first.baseUrl)).output).toBe('hello Ada');

    await stopWithinTenSeconds(first);

    const second = await start(env);
    expect(second.output()).toContain(apiKey);
    expect(await readRun(second.baseUrl)).toEqual(
      expect.objectContaining({ status: 'completed', output: 'hello Ada' }),
    );
    await stopWithinTenSeconds(second);
  });

  it('refuses a PORT in use with one line and exit code 1, and stops the PostgreSQL it started', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const port = (taken.address() as AddressInfo).port;
    const dataDir = join(workdir, '.data', 'postgres');
    try {
      const env = { EMBEDDED_POSTGRES_PORT: String(await freePort()), PORT: String(port), LOG_LEVEL: 'info' };
      const run = runHookrunToExit([], env, {
        cwd: workdir,
        command: ['npm', '--prefix', PROJECT_ROOT, 'start', '--'],
        timeoutMs: 120_000,
      });
      let exited = false;
      void run.finally(() => (exited = true));
      // Seen running while hookrun starts, so that "gone" below means stopped, not never started.
      let postgresRan = false;
      await waitUntil(
        async () => {
          postgresRan ||= postgresServing(dataDir).length > 0;
          return exited;
        },
        120_000,
        'hookrun to exit',
      );
      const { code, output } = await run;

      expect(postgresRan).toBe(true);
      expect(code).toBe(1);
      expect(logMessages(output).filter((line) => line.includes(`PORT ${port}`))).toEqual([
        `hookrun cannot start: PORT ${port} is in use on 127.0.0.1`,
      ]);
      expect(output).not.toMatch(/^\s+at /m);
      expect(postgresServing(dataDir)).toEqual([]);
    } finally {
      taken.close();
    }
  });
});
