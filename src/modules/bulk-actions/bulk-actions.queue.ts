import type { JobsOptions } from 'bullmq';

export const BULK_ACTIONS_QUEUE = 'bulk-actions';

export interface BulkActionJobData {
  bulkActionId: string;
}

// A wake-up call only: an action whose job is lost is found by the reconciler's sweep in PostgreSQL.
export const BULK_ACTION_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: true,
  removeOnFail: true,
};
