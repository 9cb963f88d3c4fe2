/**
 * Why a step attempt failed, in the run's error shape. `retryable` says whether another attempt could succeed
 * (a timeout or a 503 from an http step could; an expression error or a fail step never does).
 */
export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'StepFailure';
  }
}
