import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import { ERROR_CODES } from '../../common/error-code.registry.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';

export type EndedRunStatus = 'completed' | 'failed' | 'cancelled';

const INGEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 21_600, 86_400];
const STEP_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];

/** Error codes become label values only if the registry knows them: a label set stays bounded whatever is thrown. */
export function errorCodeLabel(code: string | null | undefined): string {
  if (!code) return 'none';
  return Object.hasOwn(ERROR_CODES, code) ? code : 'other';
}

/** Label children cached by key: `labels()` sorts and hashes its arguments, which the ingest path need not pay. */
export class LabelCache<T> {
  private readonly children = new Map<string, T>();

  constructor(private readonly make: (...values: string[]) => T) {}

  get(...values: string[]): T {
    const key = values.length === 1 ? values[0] : values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.make(...values);
      this.children.set(key, child);
    }
    return child;
  }
}

type CounterChild = ReturnType<Counter['labels']>;
type HistogramChild = ReturnType<Histogram['labels']>;

// One registry per application, not prom-client's global one: tests start several apps in a process.
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();
  private readonly workflowLabels: boolean;

  private readonly deliveries: LabelCache<CounterChild>;
  private readonly ingestSeconds: LabelCache<HistogramChild>;
  private readonly runsStarted: LabelCache<CounterChild>;
  private readonly runsEnded: LabelCache<CounterChild>;
  private readonly runSeconds: LabelCache<HistogramChild>;
  private readonly stepSeconds: LabelCache<HistogramChild>;
  private readonly requeued: Counter;

  readonly queueJobs: Gauge;
  readonly oldestQueuedAge: Gauge;
  readonly pgPool: Gauge;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.workflowLabels = config.metricsWorkflowLabels;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const deliveries = new Counter({
      name: 'hookrun_webhook_deliveries_total',
      help: 'Webhook deliveries answered, by trigger scheme, outcome and error code',
      labelNames: ['scheme', 'outcome', 'error_code'],
      registers,
    });
    this.deliveries = new LabelCache((scheme, outcome, code) => deliveries.labels(scheme, outcome, code));
    const ingest = new Histogram({
      name: 'hookrun_webhook_ingest_duration_seconds',
      help: 'From a webhook request received to its answer sent, by outcome',
      labelNames: ['outcome'],
      buckets: INGEST_BUCKETS,
      registers,
    });
    this.ingestSeconds = new LabelCache((outcome) => ingest.labels(outcome));

    const workflow = this.workflowLabels ? ['workflow_id'] : [];
    const started = new Counter({
      name: 'hookrun_runs_started_total',
      help: 'Runs started by a worker (first claim)',
      labelNames: workflow,
      registers,
    });
    this.runsStarted = new LabelCache((workflowId) => (this.workflowLabels ? started.labels(workflowId) : started));
    const ended = new Counter({
      name: 'hookrun_runs_ended_total',
      help: 'Runs ended, by final status',
      labelNames: ['status', ...workflow],
      registers,
    });
    this.runsEnded = new LabelCache((status, workflowId) =>
      this.workflowLabels ? ended.labels(status, workflowId) : ended.labels(status),
    );
    const runSeconds = new Histogram({
      name: 'hookrun_run_duration_seconds',
      help: "From a run's start to its end, by final status (runs cancelled before they started are not observed)",
      labelNames: ['status'],
      buckets: RUN_BUCKETS,
      registers,
    });
    this.runSeconds = new LabelCache((status) => runSeconds.labels(status));
    const stepSeconds = new Histogram({
      name: 'hookrun_step_duration_seconds',
      help: "A step's execution, from its start to its end (a wait step's includes the wait), by type and status",
      labelNames: ['type', 'status'],
      buckets: STEP_BUCKETS,
      registers,
    });
    this.stepSeconds = new LabelCache((type, status) => stepSeconds.labels(type, status));
    this.requeued = new Counter({
      name: 'hookrun_reconciler_requeued_runs_total',
      help: 'Unfinished runs the reconciler enqueued again because their job was gone',
      registers,
    });

    this.queueJobs = new Gauge({
      name: 'hookrun_queue_jobs',
      help: 'Jobs in the runs queue by state, read when scraped (absent when the queue did not answer in time)',
      labelNames: ['state'],
      registers,
    });
    this.oldestQueuedAge = new Gauge({
      name: 'hookrun_oldest_queued_run_age_seconds',
      help: 'Age of the oldest run still queued (0 when none; NaN when PostgreSQL did not answer in time), read when scraped',
      registers,
    });
    this.pgPool = new Gauge({
      name: 'hookrun_pg_pool_connections',
      help: 'The hot-path PostgreSQL pool: connections open (total), idle, and requests waiting for one (waiting)',
      labelNames: ['state'],
      registers,
    });
  }

  delivery(scheme: string, outcome: string, errorCode: string | null | undefined, seconds: number): void {
    this.deliveries.get(scheme, outcome, errorCodeLabel(errorCode)).inc();
    this.ingestSeconds.get(outcome).observe(seconds);
  }

  runStarted(workflowId: string): void {
    // Without the label one child serves every workflow: the cache must not grow with them.
    this.runsStarted.get(this.workflowLabels ? workflowId : '').inc();
  }

  /** `startedAt` null: the run ended before it started (cancelled or failed while queued). */
  runEnded(workflowId: string, status: EndedRunStatus, startedAt: Date | null, endedAt: Date): void {
    this.runsEnded.get(status, this.workflowLabels ? workflowId : '').inc();
    if (startedAt !== null)
      this.runSeconds.get(status).observe(Math.max(0, endedAt.getTime() - startedAt.getTime()) / 1000);
  }

  stepFinished(type: string, status: string, startedAt: Date, finishedAt: Date): void {
    this.stepSeconds.get(type, status).observe(Math.max(0, finishedAt.getTime() - startedAt.getTime()) / 1000);
  }

  runsRequeued(count: number): void {
    this.requeued.inc(count);
  }
}
