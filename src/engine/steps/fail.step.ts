import { ERROR_CODE_PATTERN, type StepBase } from '../definition.types.js';
import { DefinitionError } from '../definition.error.js';
import { compiles, optional, requiredString } from '../definition-fields.util.js';
import { StepFailure } from '../step-failure.error.js';
import type { StepHandler } from './step-handler.interface.js';

const DEFAULT_FAIL_CODE = 'workflow_failed';

export interface FailStep extends StepBase {
  type: 'fail';
  /** A template: each `{{ expr }}` is replaced by the value of the JSONata expression. */
  message: string;
  code?: string;
}

export const failStep: StepHandler<FailStep> = {
  type: 'fail',
  noun: 'a fail step',
  keys: ['message', 'code'],
  sideEffects: false,
  parse(raw, id, label) {
    const message = requiredString(raw, 'message', label);
    if (message.trim() === '') throw new DefinitionError(`${label}: message must not be empty`);
    compiles(message, `${label}: message`, true);
    const step: FailStep = { id, type: 'fail', message };
    const code = optional(raw.code);
    if (code !== undefined) {
      if (typeof code !== 'string' || !ERROR_CODE_PATTERN.test(code)) {
        throw new DefinitionError(
          `${label}: code ${JSON.stringify(code)} must be snake_case (${String(ERROR_CODE_PATTERN)})`,
        );
      }
      step.code = code;
    }
    return step;
  },
  run: {
    kind: 'attempts',
    async execute(step, { evaluator, context }) {
      const message = await evaluator.renderTemplate(step.message, context, step.timeoutMs);
      throw new StepFailure(step.code ?? DEFAULT_FAIL_CODE, message);
    },
  },
};
