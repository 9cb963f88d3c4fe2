import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import { RunsProducer } from './runs.producer.js';
import { RunClaimsRepository } from './run-claims.repository.js';

const BATCH = 200;

/** Enqueues again unfinished runs whose job is gone (Redis restarted empty, an enqueue failed, a job failed). */
@Injectable()
export class RunsReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RunsReconciler.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    private readonly runs: RunClaimsRepository,
    private readonly producer: RunsProducer,
    private readonly metrics: MetricsRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.reconcileIntervalMs > 0) this.schedule();
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  async reconcileOnce(): Promise<number> {
    // Runs taken for a check are not looked at again for a while: take none while the queue is away.
    if (!(await this.producer.answers())) return 0;
    const now = Date.now();
    const interval = this.config.reconcileIntervalMs || 5000;
    // Runs younger than two intervals may still be being enqueued; a run is checked again after six at the soonest.
    const due = await this.runs.takeUnfinishedForCheck(
      new Date(now - 2 * interval),
      new Date(now - 6 * interval),
      BATCH,
    );
    const jobless: { id: string; wakeAt: Date | null; claimed: boolean; stale: boolean }[] = [];
    for (const run of due) {
      const state = await this.producer.stateOf(run.id);
      if (state === null) break;
      if (state !== 'unknown' && state !== 'completed' && state !== 'failed') continue;
      jobless.push({ ...run, stale: state !== 'unknown' });
    }
    if (jobless.length === 0) return 0;
    // Read again after the queue: a run that ended since the snapshot lost its job by finishing, not by a fault.
    const unfinished = await this.runs.unfinishedAmong(jobless.map((run) => run.id));
    let requeued = 0;
    for (const run of jobless) {
      if (!unfinished.has(run.id)) continue;
      if (run.stale) await this.producer.discard(run.id);
      // A claimed run whose job vanished (Redis emptied) may still be running on a live worker: it is taken over
      // only once a lock would have expired, as BullMQ would have judged its job stalled.
      const delayMs = Math.max(
        run.wakeAt ? run.wakeAt.getTime() - Date.now() : 0,
        run.claimed ? this.config.workerLockMs : 0,
      );
      if (await this.producer.enqueue(run.id, delayMs)) requeued++;
    }
    if (requeued > 0) {
      this.metrics.runsRequeued(requeued);
      this.logger.warn(`Enqueued ${requeued} unfinished run(s) that had no job in the queue`);
    }
    return requeued;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.reconcileOnce().catch((error: unknown) => {
        this.logger.warn(`Reconciliation pass failed: ${String(error)}`);
        return 0;
      });
      void this.running.finally(() => {
        if (this.timer !== undefined) this.schedule();
      });
    }, this.config.reconcileIntervalMs);
    this.timer.unref();
  }
}
