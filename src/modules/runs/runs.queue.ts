import type { JobsOptions } from 'bullmq';

export const RUNS_QUEUE = 'workflow-runs';

/** Job data is the run's id and nothing else: PostgreSQL holds the run, the queue only wakes a worker. */
export interface RunJobData {
  runId: string;
}

/**
 * Every run job uses these, with `jobId` = run id so that a run is in the queue at most once.
 * Finished jobs are dropped: the run's row is the record, and a kept job would block re-enqueueing it.
 */
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};
