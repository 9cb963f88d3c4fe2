import type { CodeOfStatus, ErrorCode } from './error-code.registry.js';

/** No HTTP types here: the exception filter answers each code with its status from the registry. */
export abstract class DomainError extends Error {
  protected constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export type NotFoundResource = {
  [C in CodeOfStatus<404>]: C extends `${infer R}_not_found` ? R : never;
}[CodeOfStatus<404>];

export class NotFoundError extends DomainError {
  constructor(resource: NotFoundResource, id?: string);
  constructor(resource: string, id: string | undefined, code: CodeOfStatus<404>);
  constructor(resource: string, id?: string, code?: CodeOfStatus<404>) {
    super(
      code ?? (`${resource}_not_found` as CodeOfStatus<404>),
      id === undefined ? `${capitalise(resource)} not found` : `${capitalise(resource)} ${id} not found`,
    );
  }
}

export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly details: ValidationDetail[] = [],
    code: CodeOfStatus<400> = 'validation_failed',
  ) {
    super(code, message);
  }
}

export interface ValidationDetail {
  field: string;
  message: string;
}

export class InvalidInputError extends DomainError {
  constructor(code: CodeOfStatus<400>, message: string) {
    super(code, message);
  }
}

export class AuthenticationError extends DomainError {
  constructor(code: CodeOfStatus<401>, message: string) {
    super(code, message);
  }
}

export class MethodNotAllowedError extends DomainError {
  constructor(
    readonly allowed: readonly string[],
    message: string,
  ) {
    super('method_not_allowed', message);
  }
}

export class ConflictError extends DomainError {
  constructor(code: CodeOfStatus<409>, message: string) {
    super(code, message);
  }
}

export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'Too many requests; retry later');
  }
}

/** A trigger's filter could not decide on a delivery: the trigger's fault, so the sender is asked to retry. */
export class FilterFailedError extends DomainError {
  constructor(
    message: string,
    /** For the delivery log, which only the workflow's owner reads; never in the answer. */
    readonly reason: string,
  ) {
    super('filter_failed', message);
  }
}

export class UnavailableError extends DomainError {
  constructor(
    message = 'Service temporarily unavailable; retry later',
    readonly retryAfterSeconds = 5,
  ) {
    super('unavailable', message);
  }
}

/** What a `run_failed` answer carries besides its message: which run, how it ended, and its error. */
export interface RunEndDetails {
  runId: string;
  status: 'failed' | 'cancelled';
  error: { code: string; message: string; stepId: string | null } | null;
}

/** A request that waited for its run's output (`reply=output`) saw the run end without one. */
export class RunFailedError extends DomainError {
  constructor(readonly details: RunEndDetails) {
    super(
      'run_failed',
      details.status === 'cancelled'
        ? `Run ${details.runId} was cancelled${details.error ? `: ${details.error.message}` : ''}`
        : `Run ${details.runId} failed${details.error ? `: ${details.error.message}` : ''}`,
    );
  }
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).replace(/_/g, ' ');
}
