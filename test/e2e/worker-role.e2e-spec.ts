import { afterEach, describe, expect, it } from '@jest/globals';

import { RunsProcessor } from '../../src/modules/runs/runs.processor.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

describe('the worker role', () => {
  const apps: TestApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('runs a worker only where the role includes one', async () => {
    apps.push(await startTestApp({ worker: false }));
    expect(() => apps[0].app.get(RunsProcessor)).toThrow();
  });

  it('gives each process its worker options from its own configuration', async () => {
    apps.push(await startTestApp({ env: { WORKER_CONCURRENCY: '3', WORKER_LOCK_MS: '20000' } }));
    apps.push(await startTestApp({ env: { WORKER_CONCURRENCY: '7', WORKER_LOCK_MS: '40000' } }));
    const options = apps.map(({ app }) => app.get(RunsProcessor).worker.opts);
    expect(options).toEqual([
      expect.objectContaining({ concurrency: 3, lockDuration: 20_000, stalledInterval: 10_000, maxStalledCount: 2 }),
      expect.objectContaining({ concurrency: 7, lockDuration: 40_000, stalledInterval: 20_000, maxStalledCount: 2 }),
    ]);
    // The producer's connection fails fast while Redis is away; the worker's waits for it.
    expect(options[0].connection).not.toHaveProperty('enableOfflineQueue');
  });
});
