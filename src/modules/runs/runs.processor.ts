import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';

import { RunExecutor } from './run-executor.js';
import type { RunJobData } from './runs.queue.js';

/**
 * The worker side of the runs queue: a job is only a wake-up call for the run it names. RunsModule
 * applies `@Processor` with the worker options from config.
 */
@Injectable()
export class RunsProcessor extends WorkerHost {
  private readonly logger = new Logger(RunsProcessor.name);

  constructor(private readonly executor: RunExecutor) {
    super();
  }

  async process(job: Job<RunJobData>, token?: string): Promise<void> {
    let result;
    try {
      result = await this.executor.execute(job.data.runId);
    } catch (error) {
      const attempts = job.opts.attempts ?? 1;
      this.logger.error(`Run ${job.data.runId} attempt ${job.attemptsMade + 1}/${attempts} failed: ${String(error)}`);
      if (job.attemptsMade + 1 >= attempts) await this.executor.giveUp(job.data.runId, attempts);
      throw error;
    }
    if (result.kind === 'waiting') {
      // A delay step: the job sleeps in the queue, not in this worker, and wakes the run at `until`.
      await job.moveToDelayed(result.until.getTime(), token);
      throw new DelayedError();
    }
  }

  /**
   * Stops taking jobs and lets running ones finish for at most `timeoutMs`; after that the worker lets
   * go of them, and their runs (still `running` in PostgreSQL, with their checkpoints) are picked up
   * again by another worker.
   */
  async drain(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.worker.close().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.logger.warn(`Runs still active after ${timeoutMs} ms: handing them back to the queue`);
      await this.worker.close(true);
    }
  }
}
