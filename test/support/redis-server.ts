import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';

import { freePort } from './processes.js';
import { waitUntil } from './wait-for.js';

export interface OwnRedis {
  url: string;
  port: number;
  /** A client of this server, for the test's own commands (FLUSHALL, CONFIG SET, ...). */
  client: Redis;
  /** Stops the server (SIGKILL: as a crash would) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * A redis-server of the test's own on a free port, with nothing on disk, for tests that must empty,
 * reconfigure or kill a Redis: the developer's own Redis (TEST_REDIS_URL) is never touched that way.
 */
export async function startOwnRedis(extraArgs: string[] = []): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hookrun-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extraArgs],
    { stdio: 'ignore' },
  );
  const exited = once(child, 'exit');
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      try {
        if (client.status !== 'ready') await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        client.disconnect();
        return false;
      }
    },
    10_000,
    `redis-server on port ${port}`,
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    client,
    stop: async () => {
      client.disconnect();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
