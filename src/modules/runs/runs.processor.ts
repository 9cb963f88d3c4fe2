import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';

import { isDatabaseUnavailable } from '../../common/database-errors.util.js';
import { RunExecutor } from './run-executor.js';
import type { RunJobData } from './runs.queue.js';

/** Between tries of a run whose database is unreachable: doubling from the first, at most the last. */
const UNAVAILABLE_BACKOFF_MS = { first: 250, max: 10_000 };
/** After the drain's grace: how long handed-back runs get to put their jobs back before the worker lets go. */
const HAND_BACK_TIMEOUT_MS = 3000;

/**
 * The worker side of the runs queue: a job is only a wake-up call for the run it names. RunsModule
 * applies `@Processor` with the worker options from config.
 */
@Injectable()
export class RunsProcessor extends WorkerHost {
  private readonly logger = new Logger(RunsProcessor.name);
  /** Consecutive tries that found the database unreachable, by run: the next wait grows with them. */
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
      this.logger.error(`Run ${runId} attempt ${job.attemptsMade + 1}/${attempts} failed: ${String(error)}`);
      if (job.attemptsMade + 1 >= attempts) await this.executor.giveUp(runId, attempts);
      throw error;
    }
    this.unavailableTries.delete(runId);
    switch (result.kind) {
      case 'done':
        return;
      case 'waiting':
        // A delay step: the job sleeps in the queue, not in this worker, and wakes the run at `until`.
        await job.moveToDelayed(result.until.getTime(), token);
        throw new DelayedError();
      case 'handed-back':
        // Due at once: another worker takes it while this one stops.
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
    }
  }

  /**
   * An infrastructure fault is not the run's: the job waits and tries again, for as long as the outage
   * lasts, without using up its attempts, so that no accepted run ends failed because PostgreSQL was
   * away. If the queue cannot take the job back either, the job fails this attempt; once its attempts
   * are gone the queue drops it and the reconciler enqueues the run again (it is still unfinished).
   */
  private async retryLater(job: Job<RunJobData>, token: string | undefined, error: unknown): Promise<never> {
    const { runId } = job.data;
    const tries = (this.unavailableTries.get(runId) ?? 0) + 1;
    // Runs resumed by other workers never clear their count here: forget them all now and then.
    if (this.unavailableTries.size >= 10_000) this.unavailableTries.clear();
    this.unavailableTries.set(runId, tries);
    const delayMs = Math.min(UNAVAILABLE_BACKOFF_MS.first * 2 ** (tries - 1), UNAVAILABLE_BACKOFF_MS.max);
    this.logger.warn(
      `Run ${runId} waits for the database (try ${tries}: ${(error as Error).message}); next try in ${delayMs} ms`,
    );
    try {
      await job.moveToDelayed(Date.now() + delayMs, token);
    } catch {
      throw error;
    }
    throw new DelayedError();
  }

  /**
   * Stops taking jobs and lets running ones finish for at most `timeoutMs`; after that the runs still
   * in progress are handed back (their steps in flight aborted, their jobs put back in the queue), so
   * that another worker goes on with them from their checkpoints.
   */
  async drain(timeoutMs: number): Promise<void> {
    const closed = this.worker.close();
    if (await finishesWithin(closed, timeoutMs)) return;
    const handedBack = this.executor.handBackAll();
    this.logger.warn(`Runs still active after ${timeoutMs} ms: handing ${handedBack} back to the queue`);
    if (await finishesWithin(closed, HAND_BACK_TIMEOUT_MS)) return;
    // The queue did not take them back in time: their locks expire and another worker picks them up.
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
