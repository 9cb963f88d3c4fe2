export type ExpressionErrorCode = 'expression_invalid' | 'expression_error' | 'expression_timeout';

/** Values from the evaluated data are replaced by `<value>` in the message: users may not be allowed to see them. */
export class ExpressionError extends Error {
  readonly position: number | undefined;
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
