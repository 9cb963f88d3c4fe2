import type { JobsOptions } from 'bullmq';

export const RUNS_QUEUE = 'workflow-runs';

export interface RunJobData {
  runId: string;
}

// With `jobId` = run id, a run is in the queue at most once; a finished job kept would block enqueueing it again.
export const RUN_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};
