/**
 * The workflow definition as stored and run. `validateDefinition` is the only way in from untrusted JSON:
 * everything below assumes a definition it returned.
 */
export type StepType = 'transform' | 'condition' | 'fail' | 'http' | 'delay';

export const STEP_TYPES: readonly StepType[] = ['transform', 'condition', 'fail', 'http', 'delay'];

export interface RetryPolicy {
  maxAttempts: number;
  /** Ceiling of the first backoff, doubled at each attempt; `DEFAULT_BACKOFF_MS` when absent. */
  backoffMs?: number;
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

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpRequestDefinition {
  method: HttpMethod;
  /** A template (`{{ expr }}`); values are inserted as they are, `$encodeUrlComponent` escapes them. */
  url: string;
  /** Header name → template. Names are case-insensitive and sent lower-cased. */
  headers?: Record<string, string>;
  /** A JSONata expression whose value is sent as JSON (`null` included). */
  body?: string;
}

/**
 * Sends one request per attempt; output `{ status, headers, body }`. A 2xx status, or one listed in `okStatuses`,
 * completes the step; any other fails it with `http_status` (retryable for 408, 429 and 5xx). Redirects are not
 * followed: a 3xx is an answer like any other. `timeoutMs` bounds each attempt's exchange, not its expressions.
 */
export interface HttpStep extends StepBase {
  type: 'http';
  request: HttpRequestDefinition;
  okStatuses?: number[];
}

/**
 * Waits without holding a worker: the engine returns `waiting` and is run again after the wait. `retry` and
 * `timeoutMs` are accepted, as on every step, and have no effect here.
 */
export interface DelayStep extends StepBase {
  type: 'delay';
  durationMs: number;
}

export type StepDefinition = TransformStep | ConditionStep | FailStep | HttpStep | DelayStep;

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
export const DEFAULT_BACKOFF_MS = 1000;
export const DEFAULT_FAIL_CODE = 'workflow_failed';
export const MAX_DELAY_MS = 30 * 24 * 60 * 60_000;
export const MAX_HTTP_HEADERS = 50;
export const MAX_OK_STATUSES = 50;
/** Headers hookrun sets itself, or that would change how the message is framed on the wire. */
export const RESERVED_HTTP_HEADERS: readonly string[] = [
  'idempotency-key',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
];

/** Ids appear in JSONata paths as `steps.<id>.output` (an id with `-` needs backticks there). */
export const STEP_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
export const ERROR_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
/** RFC 9110 `token`. */
export const HTTP_HEADER_NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
