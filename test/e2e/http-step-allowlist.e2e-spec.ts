import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { TEST_DATABASE_URL } from '../support/env.js';
import { createWorkflow } from '../support/factories.js';
import { HttpSink } from '../support/http-sink.js';
import { startOwnRedis, type OwnRedis } from '../support/redis-server.js';
import { resetDatabase, startTestApp, type TestApp } from '../support/test-app.js';
import { waitForRun, type RunBody } from '../support/wait-for.js';

/**
 * HTTP_STEP_ALLOWED_HOSTS against real listeners on 127.0.0.1: a `host:port` entry opens that port only, and a bare
 * host never opens the ports of hookrun's own PostgreSQL and Redis. The app queues on a redis-server of this test's
 * own, whose log shows whether an http step ever reached it.
 */
describe('http steps and HTTP_STEP_ALLOWED_HOSTS', () => {
  const sink = new HttpSink();
  /** A listener on a port that no entry names. */
  const other = new HttpSink();
  const pgPort = Number(new URL(TEST_DATABASE_URL).port || 5432);
  const logDir = mkdtempSync(join(tmpdir(), 'hookrun-allowlist-'));
  let redis: OwnRedis;

  const portOf = (url: string) => Number(new URL(url).port);
  const redisLog = () => readFileSync(join(logDir, 'redis.log'), 'utf8');

  async function run(t: TestApp, url: string): Promise<RunBody> {
    const { id } = await createWorkflow(t, { steps: [{ id: 'call', type: 'http', request: { method: 'GET', url } }] });
    const res = await t.http().post(`/v1/workflows/${id}/runs`).set(t.auth).send({ input: {} });
    expect(res.status).toBe(202);
    return waitForRun(t, res.body.data.id as string);
  }

  async function startApp(allowedHosts: string): Promise<TestApp> {
    const t = await startTestApp({ env: { HTTP_STEP_ALLOWED_HOSTS: allowedHosts, REDIS_URL: redis.url } });
    expect(t.config.httpStepProtectedPorts).toEqual([pgPort, redis.port]);
    return t;
  }

  beforeAll(async () => {
    await sink.start();
    await other.start();
    redis = await startOwnRedis(['--logfile', join(logDir, 'redis.log')]);
    // The log the checks below read: an http request reaching Redis shows there as a "SECURITY ATTACK".
    expect(redisLog()).toContain('Ready to accept connections');
  });

  afterAll(async () => {
    await redis?.stop();
    await sink.stop();
    await other.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  describe('with 127.0.0.1:<sink port>', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startApp(`127.0.0.1:${portOf(sink.url)}`);
      await resetDatabase(t.db);
    });

    afterAll(async () => {
      await t?.close();
    });

    it('reaches the sink on its port', async () => {
      const done = await run(t, `${sink.url}/listed`);

      expect(done).toMatchObject({ status: 'completed', output: { status: 200 } });
      expect(sink.to('/listed')).toHaveLength(1);
    });

    it('refuses every other port of the host, however the address is spelled, before connecting', async () => {
      const refused = [
        `http://127.0.0.1:${redis.port}/`,
        `http://2130706433:${redis.port}/`,
        `http://0x7f.1:${pgPort}/`,
        `http://127.1:${portOf(other.url)}/unlisted`,
      ];
      for (const url of refused) {
        const failed = await run(t, url);
        expect({ url, status: failed.status, error: failed.error }).toEqual({
          url,
          status: 'failed',
          error: {
            code: 'ssrf_blocked',
            stepId: 'call',
            message: `requests to "127.0.0.1" are refused: it is a loopback address (the allow-list opens it on port ${portOf(sink.url)} only, not ${portOf(url)})`,
          },
        });
      }
      expect(other.requests).toEqual([]);
      expect(redisLog()).not.toMatch(/SECURITY ATTACK/);
    });
  });

  describe('with a bare 127.0.0.1', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startApp('127.0.0.1');
    });

    afterAll(async () => {
      await t?.close();
    });

    it('reaches every port of the host but those of its own PostgreSQL and Redis', async () => {
      expect(await run(t, `${sink.url}/bare`)).toMatchObject({ status: 'completed' });
      expect(await run(t, `http://127.1:${portOf(other.url)}/bare`)).toMatchObject({ status: 'completed' });
      expect(other.to('/bare')).toHaveLength(1);

      for (const [url, port] of [
        [`http://127.0.0.1:${redis.port}/`, redis.port],
        [`http://0177.0.0.1:${redis.port}/`, redis.port],
        [`http://0x7f.1:${pgPort}/`, pgPort],
      ] as const) {
        const failed = await run(t, url);
        expect({ url, error: failed.error }).toEqual({
          url,
          error: {
            code: 'ssrf_blocked',
            stepId: 'call',
            message: `requests to "127.0.0.1" are refused: it is a loopback address (port ${port} is hookrun's own PostgreSQL or Redis: only an allow-list entry with this port opens it)`,
          },
        });
      }
      expect(redisLog()).not.toMatch(/SECURITY ATTACK/);
    });
  });
});
