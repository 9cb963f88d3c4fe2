export const RUN_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'waiting', 'completed', 'failed', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const TRIGGER_TYPES = ['webhook', 'api', 'rerun'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];

export interface RunError {
  code: string;
  message: string;
  stepId: string | null;
}

/** The final statuses: a run in one of them changes no more (unless it is retried). */
export function isRunEnded(status: RunStatus | undefined): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}
