import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';

import { RUN_JOB_OPTIONS, RUNS_QUEUE, type RunJobData } from './runs.queue.js';

@Injectable()
export class RunsProducer {
  private readonly logger = new Logger(RunsProducer.name);

  constructor(@InjectQueue(RUNS_QUEUE) private readonly queue: Queue<RunJobData>) {}

  /**
   * Wakes a worker for a run that is already stored. A failure is logged, not thrown: the run's row is
   * the promise, and the reconciler enqueues runs that have no job.
   */
  async enqueue(runId: string, delayMs = 0): Promise<boolean> {
    try {
      await this.queue.add('run', { runId }, { ...RUN_JOB_OPTIONS, jobId: runId, delay: delayMs });
      return true;
    } catch (error) {
      this.logger.warn(`Run ${runId} is stored but could not be enqueued: ${String(error)}`);
      return false;
    }
  }

  /** Takes a waiting job out of the queue, when a run is cancelled before it started. */
  async discard(runId: string): Promise<void> {
    try {
      await this.queue.remove(runId);
    } catch (error) {
      this.logger.debug(`Could not remove job of run ${runId}: ${String(error)}`);
    }
  }
}
