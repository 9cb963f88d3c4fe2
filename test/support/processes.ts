import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { waitUntil } from './wait-for.js';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(PROJECT_ROOT, 'dist', 'main.js');
/** The Node.js flags hookrun is started with everywhere (package.json's `hookrun.nodeFlags`). */
const NODE_FLAGS = (
  JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { hookrun: { nodeFlags: string[] } }
).hookrun.nodeFlags;

export interface HookrunProcess {
  child: ChildProcess;
  baseUrl: string;
  /** Everything the process wrote, stdout and stderr. */
  output: () => string;
  /** Sends a signal to its process group and resolves with the exit code once the process has exited. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the built hookrun (`node <flags> dist/main.js <args>`), as a user or a container would, and waits until
 * it answers /health/ready. The build is the test command's job (`npm run build` runs before e2e).
 */
export async function startHookrun(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; command?: string[]; readyTimeoutMs?: number; waitFor?: 'ready' | 'live' } = {},
): Promise<HookrunProcess> {
  if (!options.command && !existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const port = env.PORT ?? String(await freePort());
  const [command, ...commandArgs] = options.command ?? [process.execPath, ...NODE_FLAGS, MAIN];
  const child = spawn(command, [...commandArgs, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env, PORT: port, HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a signal reaches every process of it, as Ctrl+C in a terminal does
    // (npm runs the script under a shell that does not pass signals on).
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // 'close', not 'exit': by then the output written just before the end has been read too.
  const exited = once(child, 'close').then(([code]) => code as number | null);
  const baseUrl = `http://127.0.0.1:${port}`;
  const proc: HookrunProcess = {
    child,
    baseUrl,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        try {
          process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      }
      return exited;
    },
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`hookrun exited with ${child.exitCode}:\n${output}`);
        try {
          return (await fetch(`${baseUrl}/health/${options.waitFor ?? 'ready'}`)).ok;
        } catch {
          return false;
        }
      },
      options.readyTimeoutMs ?? 30_000,
      `hookrun ${args.join(' ')} to be ready`,
    );
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- output ---\n${output}`, { cause: error });
  }
  return proc;
}

/**
 * Runs the built hookrun (or `options.command`) like startHookrun, for starts that must fail: resolves with
 * its exit code and output once it has exited, and kills its process group if it is still running after
 * `timeoutMs` (the code is then null), so that a start that wrongly succeeds fails the test instead of hanging it.
 */
export async function runHookrunToExit(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; command?: string[]; timeoutMs?: number } = {},
): Promise<{ code: number | null; output: string }> {
  if (!options.command && !existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first`);
  const [command, ...commandArgs] = options.command ?? [process.execPath, ...NODE_FLAGS, MAIN];
  const child = spawn(command, [...commandArgs, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const closed = once(child, 'close');
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }, options.timeoutMs ?? 60_000);
  try {
    const [code] = (await closed) as [number | null];
    return { code, output };
  } finally {
    clearTimeout(timer);
  }
}

/** The messages of a process's JSON log lines (other lines, e.g. pretty output, are skipped). */
export function logMessages(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      const entry = JSON.parse(line) as { msg?: unknown };
      return typeof entry.msg === 'string' ? [entry.msg] : [];
    } catch {
      return [];
    }
  });
}
