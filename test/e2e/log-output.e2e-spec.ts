import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';

import { shapeOf } from '../../src/common/log-flood.guard.js';
import { TEST_API_KEY, TEST_DATABASE_URL, TEST_ENCRYPTION_KEY } from '../support/env.js';
import { FaultProxy } from '../support/fault-proxy.js';
import { runHookrunToExit, startHookrun, type HookrunProcess } from '../support/processes.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { ensureTestDatabase } from '../support/test-database.js';
import { waitUntil } from '../support/wait-for.js';

interface LogLine {
  level: number;
  msg: string;
  context?: string;
  repeated?: number;
}

/** Every line of the output parsed as JSON: a line that is not JSON fails the test with the line itself. */
function parseLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      try {
        return JSON.parse(line) as LogLine;
      } catch {
        throw new Error(`Not a JSON log line: ${line.slice(0, 300)}`);
      }
    });
}

/** What a process writes, whatever goes wrong: JSON lines only, and a bounded number of lines per cause. */
describe('every line a log line', () => {
  const REPEAT = { burst: 1, intervalMs: 3000 };
  let redis: OwnRedis;
  let proxy: FaultProxy;
  let worker: HookrunProcess | undefined;

  beforeAll(async () => {
    await ensureTestDatabase();
    redis = await startOwnRedis();
    proxy = await FaultProxy.start(redis.url);
  });

  afterAll(async () => {
    await worker?.stop('SIGKILL');
    await proxy?.stop();
    await redis?.stop();
  });

  it('logs a Redis that resets every connection as JSON lines, one per cause per interval, with a count', async () => {
    worker = await startHookrun(['worker'], {
      DATABASE_URL: TEST_DATABASE_URL,
      REDIS_URL: proxy.url,
      SECRETS_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
      BOOTSTRAP_API_KEY: TEST_API_KEY,
      QUEUE_PREFIX: `hookrun-logs-${randomBytes(4).toString('hex')}`,
      LOG_REPEAT_BURST: String(REPEAT.burst),
      LOG_REPEAT_INTERVAL_MS: String(REPEAT.intervalMs),
    });
    const downAt = Date.now();
    await proxy.down();
    // Each refused connection is one more error from the Redis client: enough of them to flood an unguarded log.
    await waitUntil(async () => proxy.refused >= 12, 60_000, 'the worker to retry Redis 12 times');
    await waitUntil(
      async () => parseLines(worker!.output()).some((line) => line.context === 'LogFloodGuard'),
      30_000,
      'a summary of the lines not written',
    );
    const elapsedMs = Date.now() - downAt;

    const lines = parseLines(worker.output());
    const resets = lines.filter((line) => line.msg.includes('ECONNRESET') && line.context !== 'LogFloodGuard');
    expect(resets.length).toBeGreaterThan(0);
    const perCause = new Map<string, number>();
    for (const line of resets) {
      const cause = shapeOf(line.context ?? 'app', line.msg.split('\n')[0]);
      perCause.set(cause, (perCause.get(cause) ?? 0) + 1);
    }
    // One interval per cause starts at its first line: at most this many intervals fit in the time observed.
    const bound = REPEAT.burst * (Math.floor(elapsedMs / REPEAT.intervalMs) + 1);
    for (const [cause, count] of perCause) expect({ cause, count: Math.min(count, bound) }).toEqual({ cause, count });
    const summary = lines.find((line) => line.context === 'LogFloodGuard')!;
    expect(summary.level).toBe(40);
    expect(summary.repeated).toBeGreaterThan(0);
    expect(summary.msg).toMatch(/^\d+ more line\(s\) like this in 3 s were not written: /);
  });

  it('refuses a bad configuration with one JSON line', async () => {
    const result = await runHookrunToExit(['worker'], { LOG_LEVEL: 'loud', DATABASE_URL: TEST_DATABASE_URL });
    expect(result.code).toBe(1);
    const lines = parseLines(result.output);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 60,
        msg: 'hookrun cannot start: Invalid configuration:\n  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      }),
    ]);
  });
});
