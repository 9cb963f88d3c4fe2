import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';

import { TimeoutError } from '../../common/timeout.util.js';
import { RUN_JOB_OPTIONS, RUNS_QUEUE, type RunJobData } from './runs.queue.js';

const QUEUE_CALL_TIMEOUT_MS = 500;
export const QUEUED_JOB_STATES = ['waiting', 'active', 'delayed'] as const;
export type QueuedJobState = (typeof QUEUED_JOB_STATES)[number];
const STALLED_PROBE_INTERVAL_MS = 1000;

// After a timeout the queue counts as stalled and calls fail fast (one probe a second); the reconciler enqueues runs without a job.
@Injectable()
export class RunsProducer {
  private readonly logger = new Logger(RunsProducer.name);
  private stalledSince: number | null = null;
  private lastProbeAt = 0;
  private skipped = 0;

  constructor(@InjectQueue(RUNS_QUEUE) private readonly queue: Queue<RunJobData>) {}

  /** False when the run has to wait for the reconciler. `first`: ahead of the waiting jobs (a run woken to start). */
  async enqueue(runId: string, delayMs = 0, first = false): Promise<boolean> {
    const options = { ...RUN_JOB_OPTIONS, jobId: runId, delay: delayMs, ...(first ? { lifo: true } : {}) };
    try {
      await this.call(() => this.queue.add('run', { runId }, options));
      return true;
    } catch (error) {
      if (!(error instanceof QueueStalledError)) {
        this.logger.warn(`Run ${runId} is stored but could not be enqueued: ${String(error)}`);
      }
      return false;
    }
  }

  async discard(runId: string): Promise<void> {
    try {
      await this.call(() => this.queue.remove(runId));
    } catch (error) {
      this.logger.debug(`Could not remove job of run ${runId}: ${String(error)}`);
    }
  }

  /** Null when the queue did not answer. */
  async stateOf(runId: string): Promise<string | null> {
    try {
      return await this.call(() => this.queue.getJobState(runId));
    } catch {
      return null;
    }
  }

  /** Null when the queue did not answer in time: a scrape reports what it has rather than wait. */
  async jobCounts(): Promise<Record<QueuedJobState, number> | null> {
    try {
      const counts = await this.call(() => this.queue.getJobCounts(...QUEUED_JOB_STATES));
      return { waiting: counts.waiting ?? 0, active: counts.active ?? 0, delayed: counts.delayed ?? 0 };
    } catch {
      return null;
    }
  }

  async answers(): Promise<boolean> {
    try {
      await this.call(() => this.queue.getJobCounts('waiting'));
      return true;
    } catch {
      return false;
    }
  }

  private call<T>(send: () => Promise<T>): Promise<T> {
    const now = Date.now();
    if (this.stalledSince !== null) {
      if (now - this.lastProbeAt < STALLED_PROBE_INTERVAL_MS) {
        if (this.skipped++ === 0) this.logger.warn('The queue is not answering: new runs wait for the reconciler');
        return Promise.reject(new QueueStalledError());
      }
      this.lastProbeAt = now;
    }
    return new Promise<T>((resolve, reject) => {
      const pending = send();
      const timer = setTimeout(() => {
        this.stalledSince ??= now;
        this.lastProbeAt = now;
        reject(new TimeoutError('The queue', QUEUE_CALL_TIMEOUT_MS));
      }, QUEUE_CALL_TIMEOUT_MS);
      pending.then(
        (value) => {
          clearTimeout(timer);
          this.answered();
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  private answered(): void {
    if (this.stalledSince === null) return;
    this.logger.log(
      `The queue answers again after ${Date.now() - this.stalledSince} ms ` +
        `(${this.skipped} call(s) meanwhile were left to the reconciler)`,
    );
    this.stalledSince = null;
    this.skipped = 0;
  }
}

class QueueStalledError extends Error {
  constructor() {
    super('The queue is stalled');
  }
}
