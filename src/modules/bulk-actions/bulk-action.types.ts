import type { RunStatus, TriggerType } from '../runs/run-status.types.js';

export const BULK_ACTIONS = ['cancel', 'retry', 'rerun'] as const;
export type BulkActionKind = (typeof BULK_ACTIONS)[number];

export const BULK_ACTION_STATUSES = ['queued', 'running', 'completed'] as const;
export type BulkActionStatus = (typeof BULK_ACTION_STATUSES)[number];

/** As stored and answered: dates in ISO 8601, absent fields left out. */
export interface BulkActionFilter {
  workflowId?: string;
  status?: RunStatus;
  triggerType?: TriggerType;
  createdAfter?: string;
  createdBefore?: string;
}

export interface BulkActionFailure {
  runId: string;
  code: string;
  reason: string;
}
