export type RunStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped';
export const RUN_STATUSES: RunStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

export interface RunStep {
  id: string;
  type: string;
  status: StepStatus;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  output: unknown;
  error: { code: string; message: string } | null;
}

export interface Run {
  id: string;
  workflowId: string;
  workflowVersion: number;
  status: RunStatus;
  trigger: { type: 'webhook' | 'api' | 'rerun'; webhookId?: string; idempotencyKey?: string };
  rerunOf: string | null;
  input: unknown;
  output: unknown;
  error: { code: string; message: string; stepId: string | null } | null;
  steps: RunStep[];
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

export interface Workflow {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  version: number;
  definition: unknown;
  webhookTrigger: null | { slug: string; url: string; scheme: string; enabled: boolean };
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}
