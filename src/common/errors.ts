/**
 * Domain errors: what went wrong, in the contract's stable snake_case codes, with no HTTP types.
 * The exception filter maps each kind to a status and the error envelope of API.md.
 */
export abstract class DomainError extends Error {
  protected constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 404: `<resource>_not_found`, or another code such as `trigger_not_found`. */
export class NotFoundError extends DomainError {
  constructor(resource: string, id?: string, code = `${resource}_not_found`) {
    super(code, id === undefined ? `${capitalise(resource)} not found` : `${capitalise(resource)} ${id} not found`);
  }
}

/** 400 with `details`: a request that failed DTO validation. */
export class ValidationError extends DomainError {
  constructor(
    message: string,
    readonly details: ValidationDetail[] = [],
    code = 'validation_failed',
  ) {
    super(code, message);
  }
}

export interface ValidationDetail {
  field: string;
  message: string;
}

/** 400 without details: input that is well-formed for HTTP but wrong (`invalid_json`, `invalid_definition`). */
export class InvalidInputError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** 401: missing or bad credentials or signatures. */
export class AuthenticationError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** 405 with `Allow`: the path exists, but only for other methods. */
export class MethodNotAllowedError extends DomainError {
  constructor(
    readonly allowed: readonly string[],
    message: string,
  ) {
    super('method_not_allowed', message);
  }
}

/** 409: the resource's state forbids the action (`trigger_exists`, `run_finished`). */
export class ConflictError extends DomainError {
  constructor(code: string, message: string) {
    super(code, message);
  }
}

/** 413 */
export class PayloadTooLargeError extends DomainError {
  constructor(limitBytes: number) {
    super('payload_too_large', `Body is larger than ${limitBytes} bytes`);
  }
}

/** 415 */
export class UnsupportedMediaTypeError extends DomainError {
  constructor(message: string) {
    super('unsupported_media_type', message);
  }
}

/** 429 with Retry-After. */
export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('rate_limited', 'Too many requests; retry later');
  }
}

/** 503 with Retry-After: a dependency we must write to is down. */
export class UnavailableError extends DomainError {
  constructor(
    message = 'Service temporarily unavailable; retry later',
    readonly retryAfterSeconds = 5,
  ) {
    super('unavailable', message);
  }
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1).replace(/_/g, ' ');
}
