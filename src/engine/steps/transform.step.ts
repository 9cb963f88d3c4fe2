import type { StepBase } from '../definition.types.js';
import { requiredExpression } from '../definition-fields.util.js';
import type { StepHandler } from './step-handler.interface.js';

export interface TransformStep extends StepBase {
  type: 'transform';
  expression: string;
}

export const transformStep: StepHandler<TransformStep> = {
  type: 'transform',
  noun: 'a transform step',
  keys: ['expression'],
  sideEffects: false,
  parse: (raw, id, label) => ({ id, type: 'transform', expression: requiredExpression(raw, label) }),
  run: {
    kind: 'attempts',
    execute: async (step, { evaluator, context }) => ({
      output: await evaluator.evaluate(step.expression, context, step.timeoutMs),
    }),
  },
};
