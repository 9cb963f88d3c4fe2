/** A workflow definition that does not validate; the message names the step and the problem. */
export class DefinitionError extends Error {
  readonly code = 'invalid_definition';

  constructor(message: string) {
    super(message);
    this.name = 'DefinitionError';
  }
}
