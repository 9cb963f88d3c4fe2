import { conditionStep } from './condition.step.js';
import { delayStep } from './delay.step.js';
import { failStep } from './fail.step.js';
import { httpStep } from './http.step.js';
import type { StepHandler } from './step-handler.interface.js';
import { transformStep } from './transform.step.js';

/** Every step type, once: a new type is its `<type>.step.ts` and one line here. */
export const STEP_HANDLERS = [
  transformStep,
  conditionStep,
  failStep,
  httpStep,
  delayStep,
] as const satisfies readonly StepHandler[];

type StepOf<H> = H extends StepHandler<infer S> ? S : never;

export type StepDefinition = StepOf<(typeof STEP_HANDLERS)[number]>;
export type StepType = StepDefinition['type'];

export const STEP_TYPES: readonly StepType[] = STEP_HANDLERS.map((handler) => handler.type);

const HANDLERS = new Map<string, StepHandler<StepDefinition>>(STEP_HANDLERS.map((handler) => [handler.type, handler]));

/** The handler of a type named in untrusted JSON, or undefined for an unknown type. */
export function findStepHandler(type: string): StepHandler<StepDefinition> | undefined {
  return HANDLERS.get(type);
}

export function stepHandlerOf<S extends StepDefinition>(step: S): StepHandler<S> {
  return handlerOf(step.type) as StepHandler<S>;
}

export function stepHasSideEffects(type: StepType): boolean {
  return handlerOf(type).sideEffects;
}

function handlerOf(type: string): StepHandler<StepDefinition> {
  const handler = HANDLERS.get(type);
  if (!handler) throw new Error(`unknown step type ${JSON.stringify(type)}`);
  return handler;
}
