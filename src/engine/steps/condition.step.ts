import type { StepBase } from '../definition.types.js';
import { DefinitionError } from '../definition.error.js';
import { requiredExpression, type JsonObject } from '../definition-fields.util.js';
import type { DefinitionContext, StepHandler } from './step-handler.interface.js';

/** Goes on at `then` or `else` (a later step's id, or null to end the run) as the expression is truthy or not. */
export interface ConditionStep extends StepBase {
  type: 'condition';
  expression: string;
  then: string | null;
  else: string | null;
}

export const conditionStep: StepHandler<ConditionStep> = {
  type: 'condition',
  noun: 'a condition step',
  keys: ['expression', 'then', 'else'],
  sideEffects: false,
  parse: (raw, id, label) => ({
    id,
    type: 'condition',
    expression: requiredExpression(raw, label),
    then: jumpTarget(raw, 'then', label),
    else: jumpTarget(raw, 'else', label),
  }),
  check(step, definition) {
    checkJump(step, 'then', definition);
    checkJump(step, 'else', definition);
  },
  run: {
    kind: 'attempts',
    async execute(step, { evaluator, context }) {
      const result = Boolean(await evaluator.evaluate(step.expression, context, step.timeoutMs));
      const next = result ? step.then : step.else;
      return { output: { result, next }, next };
    },
  },
  resumeNext(step, output) {
    const recorded = output as { result?: unknown; next?: unknown } | null;
    if (recorded && (recorded.next === step.then || recorded.next === step.else)) {
      return recorded.next as string | null;
    }
    return recorded?.result ? step.then : step.else;
  },
};

function jumpTarget(raw: JsonObject, key: 'then' | 'else', label: string): string | null {
  if (raw[key] === undefined)
    throw new DefinitionError(`${label}: missing ${key} (a later step's id, or null to end the run)`);
  const target = raw[key];
  if (target !== null && typeof target !== 'string') {
    throw new DefinitionError(`${label}: ${key} must be a step id or null`);
  }
  return target;
}

function checkJump(step: ConditionStep, key: 'then' | 'else', { index, positions }: DefinitionContext): void {
  const target = step[key];
  if (target === null) return;
  const label = `step "${step.id}"`;
  const position = positions.get(target);
  if (position === undefined) throw new DefinitionError(`${label}: ${key} refers to unknown step "${target}"`);
  if (position === index) throw new DefinitionError(`${label}: ${key} refers to the step itself`);
  if (position < index) {
    throw new DefinitionError(
      `${label}: ${key} refers to earlier step "${target}" (only a later step or null is allowed)`,
    );
  }
}
