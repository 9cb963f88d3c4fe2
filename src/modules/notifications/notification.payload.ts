import type { RunError } from '../runs/run-status.types.js';

export type NotificationType = 'run.failed' | 'run.completed' | 'run.cancelled';

/** What the event says of its run: never the run's input or output, which may hold personal data. */
export interface EndedRun {
  id: string;
  workflowId: string;
  workflowName: string | null;
  status: string;
  error: RunError | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

export interface NotificationPayload {
  type: NotificationType;
  /** When the run ended (the event's time), ISO 8601. */
  timestamp: string;
  data: {
    runId: string;
    workflowId: string;
    workflowName: string | null;
    status: string;
    error: RunError | null;
    startedAt: string | null;
    completedAt: string | null;
    links: { run: string; workflow: string };
  };
}

export function buildNotificationPayload(
  type: NotificationType,
  run: EndedRun,
  eventCreatedAt: Date,
  publicBaseUrl: string,
): NotificationPayload {
  return {
    type,
    timestamp: (run.completedAt ?? eventCreatedAt).toISOString(),
    data: {
      runId: run.id,
      workflowId: run.workflowId,
      workflowName: run.workflowName,
      status: run.status,
      error: run.error ? { code: run.error.code, message: run.error.message, stepId: run.error.stepId ?? null } : null,
      startedAt: run.startedAt?.toISOString() ?? null,
      completedAt: run.completedAt?.toISOString() ?? null,
      links: {
        run: `${publicBaseUrl}/v1/workflow-runs/${run.id}`,
        workflow: `${publicBaseUrl}/v1/workflows/${run.workflowId}`,
      },
    },
  };
}
