import type { FlowControl } from './flow-control.js';
import type { NotifyEndpointConfig } from './notify.js';
import type { StepDefinition } from './steps/step.registry.js';

/** `validateDefinition` is the only way in from untrusted JSON: everything here assumes a definition it returned. */
export type { StepDefinition, StepType } from './steps/step.registry.js';
export type { ConditionStep } from './steps/condition.step.js';
export type { DelayStep } from './steps/delay.step.js';
export type { FailStep } from './steps/fail.step.js';
export type { HttpMethod, HttpRequestDefinition, HttpStep } from './steps/http.step.js';
export type { TransformStep } from './steps/transform.step.js';

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs?: number;
}

export interface StepBase {
  id: string;
  type: string;
  retry?: RetryPolicy;
  timeoutMs?: number;
}

export interface WorkflowDefinition extends FlowControl {
  steps: StepDefinition[];
  output?: string;
  timeoutMs?: number;
  /** Where hookrun sends signed events when a run ends (see docs/notifications.md). */
  notify?: NotifyEndpointConfig[];
}

export const MAX_STEPS = 100;
export const DEFAULT_RUN_TIMEOUT_MS = 15 * 60_000;
export const MAX_RUN_TIMEOUT_MS = 7 * 24 * 60 * 60_000;
export const MAX_STEP_TIMEOUT_MS = 86_400_000;
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_BACKOFF_MS = 3_600_000;
export const DEFAULT_BACKOFF_MS = 1000;

/** Ids appear in JSONata paths as `steps.<id>.output` (an id with `-` needs backticks there). */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const ERROR_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
