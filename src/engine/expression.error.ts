export type ExpressionErrorCode = 'expression_invalid' | 'expression_error' | 'expression_timeout';

/**
 * A JSONata expression that does not compile, fails, or runs too long. The message carries JSONata's message
 * and position, with any value taken from the evaluated data replaced by `<value>`: it is stored on runs
 * and shown to users, the input may not be theirs to see.
 */
export class ExpressionError extends Error {
  readonly position: number | undefined;
  /** JSONata's own error code (`S0201`, `T2001`, ...), when JSONata raised the error. */
  readonly jsonataCode: string | undefined;

  constructor(
    readonly code: ExpressionErrorCode,
    message: string,
    details: { position?: number; jsonataCode?: string } = {},
  ) {
    super(message);
    this.name = 'ExpressionError';
    this.position = details.position;
    this.jsonataCode = details.jsonataCode;
  }
}
