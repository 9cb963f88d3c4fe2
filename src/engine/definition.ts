/**
 * The workflow definition as stored and run. `validateDefinition` is the only way in from untrusted JSON:
 * everything below assumes a definition it returned.
 */
export type StepType = 'transform' | 'condition' | 'fail';

export const STEP_TYPES: readonly StepType[] = ['transform', 'condition', 'fail'];

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs: number;
}

interface StepBase {
  id: string;
  type: StepType;
  retry?: RetryPolicy;
  timeoutMs?: number;
}

export interface TransformStep extends StepBase {
  type: 'transform';
  expression: string;
}

export interface ConditionStep extends StepBase {
  type: 'condition';
  expression: string;
  then: string | null;
  else: string | null;
}

export interface FailStep extends StepBase {
  type: 'fail';
  /** A template: each `{{ expr }}` is replaced by the value of the JSONata expression. */
  message: string;
  code?: string;
}

export type StepDefinition = TransformStep | ConditionStep | FailStep;

export interface WorkflowDefinition {
  steps: StepDefinition[];
  output?: string;
  timeoutMs?: number;
}

export const MAX_STEPS = 100;
export const DEFAULT_RUN_TIMEOUT_MS = 15 * 60_000;
export const MAX_RUN_TIMEOUT_MS = 7 * 24 * 60 * 60_000;
export const MAX_STEP_TIMEOUT_MS = 86_400_000;
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_BACKOFF_MS = 3_600_000;
export const DEFAULT_FAIL_CODE = 'workflow_failed';

/** Ids appear in JSONata paths as `steps.<id>.output` (an id with `-` needs backticks there). */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const ERROR_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
