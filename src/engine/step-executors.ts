import {
  DEFAULT_FAIL_CODE,
  type ConditionStep,
  type FailStep,
  type StepDefinition,
  type TransformStep,
} from './definition.js';
import { ExpressionError, type ExpressionEvaluator } from './expression.js';
import type { HttpStepExecutor } from './http/http-step.js';
import { StepFailure } from './step-failure.js';

/** What expressions see: `{ input, steps: { <id>: { output } }, run: { id, workflowId, trigger } }`. */
export interface ExpressionContext {
  input: unknown;
  steps: Record<string, { output: unknown }>;
  run: { id: string; workflowId: string; trigger: Record<string, unknown> };
}

export interface StepEnvironment {
  evaluator: ExpressionEvaluator;
  context: ExpressionContext;
  /** Required by http steps. */
  http?: HttpStepExecutor;
  /** Aborts work in flight (an http request); the attempt then fails with `cancelled`. */
  signal?: AbortSignal;
}

/** A completed attempt. `next` is set by steps that choose where the run goes on (`null`: it ends). */
export interface StepExecution {
  output: unknown;
  next?: string | null;
}

/**
 * Runs one attempt of a step. A failed attempt throws `StepFailure`; any other error is a fault of the engine or
 * of its caller, not of the workflow. A new step type is a new executor and a new case here.
 */
export async function executeStep(step: StepDefinition, env: StepEnvironment): Promise<StepExecution> {
  try {
    switch (step.type) {
      case 'transform':
        return await executeTransform(step, env);
      case 'condition':
        return await executeCondition(step, env);
      case 'fail':
        return await executeFail(step, env);
      case 'http':
        if (!env.http) throw new Error('http steps need an HttpStepExecutor in the step environment');
        return await env.http.execute(step, env);
      case 'delay':
        // A delay is a state of the run, not an attempt: there is nothing to retry.
        throw new Error('delay steps are run by the engine, not by executeStep');
    }
  } catch (err) {
    if (err instanceof ExpressionError) throw new StepFailure(err.code, err.message);
    throw err;
  }
}

async function executeTransform(step: TransformStep, { evaluator, context }: StepEnvironment): Promise<StepExecution> {
  return { output: await evaluator.evaluate(step.expression, context, step.timeoutMs) };
}

async function executeCondition(step: ConditionStep, { evaluator, context }: StepEnvironment): Promise<StepExecution> {
  const result = Boolean(await evaluator.evaluate(step.expression, context, step.timeoutMs));
  const next = result ? step.then : step.else;
  return { output: { result, next }, next };
}

async function executeFail(step: FailStep, { evaluator, context }: StepEnvironment): Promise<StepExecution> {
  const message = await evaluator.renderTemplate(step.message, context, step.timeoutMs);
  throw new StepFailure(step.code ?? DEFAULT_FAIL_CODE, message);
}
