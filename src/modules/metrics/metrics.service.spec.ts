import { describe, expect, it } from '@jest/globals';
import type pg from 'pg';

import type { AppConfig } from '../../config/app.config.js';
import type { RunsProducer } from '../runs/runs.producer.js';
import { MetricsRegistry } from './metrics.registry.js';
import { MetricsService } from './metrics.service.js';

function harness(options: { counts: Record<string, number> | null; age: number | Error }) {
  let queries = 0;
  const producer = { jobCounts: () => Promise.resolve(options.counts) } as unknown as RunsProducer;
  const pool = {
    totalCount: 4,
    idleCount: 3,
    waitingCount: 0,
    query: () => {
      queries++;
      return options.age instanceof Error
        ? Promise.reject(options.age)
        : Promise.resolve({ rows: [{ age: options.age }] });
    },
  } as unknown as pg.Pool;
  const service = new MetricsService(
    new MetricsRegistry({ metricsWorkflowLabels: false } as AppConfig),
    producer,
    pool,
  );
  return { service, queries: () => queries };
}

describe('MetricsService', () => {
  it('reads the queue, the oldest queued run and the pool when scraped', async () => {
    const { service } = harness({ counts: { waiting: 7, active: 2, delayed: 1 }, age: 42.5 });
    const text = await service.scrape();
    expect(text).toContain('hookrun_queue_jobs{state="waiting"} 7');
    expect(text).toContain('hookrun_queue_jobs{state="delayed"} 1');
    expect(text).toContain('hookrun_oldest_queued_run_age_seconds 42.5');
    expect(text).toContain('hookrun_pg_pool_connections{state="total"} 4');
    expect(text).toContain('hookrun_pg_pool_connections{state="idle"} 3');
  });

  it('answers without the gauges of a queue or database that did not answer', async () => {
    const { service } = harness({ counts: null, age: new Error('Query read timeout') });
    const text = await service.scrape();
    expect(text).not.toMatch(/^hookrun_queue_jobs\{/m);
    expect(text).toMatch(/^hookrun_oldest_queued_run_age_seconds nan$/im);
    expect(text).toContain('hookrun_pg_pool_connections{state="waiting"} 0');
    expect(text).toContain('hookrun_runs_started_total 0');
  });

  it('shares one read of the oldest queued run between the scrapes of the same second', async () => {
    const { service, queries } = harness({ counts: null, age: 0 });
    await Promise.all([service.scrape(), service.scrape()]);
    await service.scrape();
    expect(queries()).toBe(1);
  });
});
