import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';

import { isDatabaseUnavailable } from '../../common/database-errors.util.js';
import { about } from '../../common/log.context.js';
import { RunExecutor } from './run.executor.js';
import type { RunJobData } from './runs.queue.js';

const UNAVAILABLE_BACKOFF_MS = { first: 250, max: 10_000 };
const HAND_BACK_TIMEOUT_MS = 3000;

/** The runs queue's worker (RunsWorkerModule declares it with its options): a job only wakes the run it names. */
@Injectable()
export class RunsProcessor extends WorkerHost {
  private readonly logger = new Logger(RunsProcessor.name);
  private readonly unavailableTries = new Map<string, number>();

  constructor(private readonly executor: RunExecutor) {
    super();
  }

  async process(job: Job<RunJobData>, token?: string): Promise<void> {
    const { runId } = job.data;
    let result;
    try {
      result = await this.executor.execute(runId);
    } catch (error) {
      if (isDatabaseUnavailable(error)) return this.retryLater(job, token, error);
      this.unavailableTries.delete(runId);
      const attempts = job.opts.attempts ?? 1;
      this.logger.error(
        about({ runId }, `Run ${runId} attempt ${job.attemptsMade + 1}/${attempts} failed: ${String(error)}`),
      );
      if (job.attemptsMade + 1 >= attempts) await this.executor.giveUp(runId, attempts);
      throw error;
    }
    this.unavailableTries.delete(runId);
    switch (result.kind) {
      case 'done':
        return;
      case 'waiting':
        // A delay step sleeps in the queue, not in this worker.
        await job.moveToDelayed(result.until.getTime(), token);
        throw new DelayedError();
      case 'handed-back':
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
    }
  }

  // An outage is not the run's fault: the job waits without using attempts; if the queue refuses it, the reconciler re-enqueues.
  private async retryLater(job: Job<RunJobData>, token: string | undefined, error: unknown): Promise<never> {
    const { runId } = job.data;
    const tries = (this.unavailableTries.get(runId) ?? 0) + 1;
    // Runs resumed by other workers never clear their count here: forget them all now and then.
    if (this.unavailableTries.size >= 10_000) this.unavailableTries.clear();
    this.unavailableTries.set(runId, tries);
    const delayMs = Math.min(UNAVAILABLE_BACKOFF_MS.first * 2 ** (tries - 1), UNAVAILABLE_BACKOFF_MS.max);
    this.logger.warn(
      about(
        { runId },
        `Run ${runId} waits for the database (try ${tries}: ${(error as Error).message}); next try in ${delayMs} ms`,
      ),
    );
    try {
      await job.moveToDelayed(Date.now() + delayMs, token);
    } catch {
      throw error;
    }
    throw new DelayedError();
  }

  /** Runs still going after `timeoutMs` are handed back: another worker goes on from their checkpoints. */
  async drain(timeoutMs: number): Promise<void> {
    const closed = this.worker.close();
    if (await finishesWithin(closed, timeoutMs)) return;
    const handedBack = this.executor.handBackAll();
    this.logger.warn(`Runs still active after ${timeoutMs} ms: handing ${handedBack} back to the queue`);
    if (await finishesWithin(closed, HAND_BACK_TIMEOUT_MS)) return;
    // Not taken back in time: their locks expire and another worker picks them up.
    await this.worker.close(true);
  }
}

async function finishesWithin(work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const finished = await Promise.race([
    work.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  return finished;
}
