import { Inject, Injectable } from '@nestjs/common';
import type pg from 'pg';

import { PG_POOL } from '../../database/database.module.js';
import { QUEUED_JOB_STATES, RunsProducer } from '../runs/runs.producer.js';
import { MetricsRegistry } from './metrics.registry.js';

// Cheap with workflow_runs_unfinished_idx (partial on completed_at IS NULL): it reads the backlog's rows only.
const OLDEST_QUEUED = `SELECT extract(epoch FROM clock_timestamp() - min(created_at))::float8 AS age
  FROM workflow_runs WHERE completed_at IS NULL AND status = 'queued'`;
const OLDEST_QUEUED_TIMEOUT_MS = 1000;
// Several Prometheus servers (or a dashboard's refresh) scraping at once share one read.
const OLDEST_QUEUED_CACHE_MS = 1000;

/** The gauges read when scraped; a dependency that does not answer in time leaves its gauges out of the answer. */
@Injectable()
export class MetricsService {
  private oldest: { at: number; age: Promise<number | null> } | null = null;

  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly producer: RunsProducer,
    @Inject(PG_POOL) private readonly pool: pg.Pool,
  ) {}

  async scrape(): Promise<string> {
    const [counts, age] = await Promise.all([this.producer.jobCounts(), this.oldestQueuedAge()]);
    const { queueJobs, oldestQueuedAge, pgPool } = this.metrics;
    queueJobs.reset();
    if (counts) for (const state of QUEUED_JOB_STATES) queueJobs.labels(state).set(counts[state]);
    // A gauge without labels cannot be left out: NaN says "unknown" where 0 would say "no backlog".
    oldestQueuedAge.set(age ?? Number.NaN);
    pgPool.labels('total').set(this.pool.totalCount);
    pgPool.labels('idle').set(this.pool.idleCount);
    pgPool.labels('waiting').set(this.pool.waitingCount);
    return this.metrics.registry.metrics();
  }

  private oldestQueuedAge(): Promise<number | null> {
    const now = Date.now();
    if (this.oldest && now - this.oldest.at < OLDEST_QUEUED_CACHE_MS) return this.oldest.age;
    const age = this.pool
      .query<{ age: number | null }>({ text: OLDEST_QUEUED, query_timeout: OLDEST_QUEUED_TIMEOUT_MS } as pg.QueryConfig)
      .then(
        (result) => Math.max(0, result.rows[0]?.age ?? 0),
        () => null,
      );
    this.oldest = { at: now, age };
    return age;
  }
}
