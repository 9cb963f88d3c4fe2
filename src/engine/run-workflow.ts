import {
  DEFAULT_RUN_TIMEOUT_MS,
  type ConditionStep,
  type StepDefinition,
  type StepType,
  type WorkflowDefinition,
} from './definition.js';
import { ExpressionError, type ExpressionEvaluator } from './expression.js';
import { withRetry } from './retry.js';
import { executeStep, type ExpressionContext, type StepExecution } from './step-executors.js';

export interface RunInfo {
  id: string;
  workflowId: string;
  trigger: Record<string, unknown>;
}

export interface StepError {
  code: string;
  message: string;
}

export type StepResult =
  | {
      stepId: string;
      type: StepType;
      status: 'completed';
      output: unknown;
      attempts: number;
      startedAt: Date;
      finishedAt: Date;
      next?: string | null;
    }
  | {
      stepId: string;
      type: StepType;
      status: 'failed';
      error: StepError;
      attempts: number;
      startedAt: Date;
      finishedAt: Date;
    }
  | { stepId: string; type: StepType; status: 'skipped' };

/** What a previous execution of the run recorded for a step. */
export interface Checkpoint {
  status: 'completed' | 'skipped';
  output?: unknown;
}

/** Called as the run goes; their errors (failed writes) propagate out of `run`. */
export interface EngineHooks {
  /** Before each attempt; `startedAt` is when the step's first attempt started. */
  onStepStarted?(step: StepDefinition, startedAt: Date, attempt: number): Promise<void>;
  /** For completed, failed and skipped steps; never for steps taken from checkpoints. */
  onStepFinished?(result: StepResult): Promise<void>;
  /** Asked before each step that runs, before each retry and before the output: true ends the run as cancelled. */
  shouldStop?(): Promise<boolean>;
}

export type RunOutcome =
  | { status: 'completed'; output: unknown }
  | { status: 'failed'; error: { code: string; message: string; stepId: string | null } }
  | { status: 'cancelled' };

export interface RunParams {
  input: unknown;
  run: RunInfo;
  /** Steps done by an earlier execution, by step id: completed ones are not run again, their output is reused. */
  checkpoints?: Record<string, Checkpoint>;
  /** When the run first started; the run's time limit counts from it. Defaults to now. */
  startedAt?: Date;
}

export interface WorkflowEngineOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

type Interruption = 'cancelled' | 'run_timeout';

type ExecutedStepResult = Exclude<StepResult, { status: 'skipped' }>;

/** Runs workflow definitions returned by `validateDefinition`. Holds no state between runs. */
export class WorkflowEngine {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly evaluator: ExpressionEvaluator,
    options: WorkflowEngineOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async run(definition: WorkflowDefinition, params: RunParams, hooks: EngineHooks = {}): Promise<RunOutcome> {
    const { steps } = definition;
    const positions = new Map(steps.map((step, index) => [step.id, index]));
    const checkpoints = params.checkpoints ?? {};
    const checkpointOf = (id: string): Checkpoint | undefined =>
      Object.hasOwn(checkpoints, id) ? checkpoints[id] : undefined;
    const timeoutMs = definition.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const deadline = (params.startedAt?.getTime() ?? this.now()) + timeoutMs;
    const timedOut = (stepId: string): RunOutcome => ({
      status: 'failed',
      error: { code: 'run_timeout', message: `the run did not finish within ${timeoutMs} ms`, stepId },
    });
    const shouldStop = async (): Promise<boolean> => (hooks.shouldStop ? hooks.shouldStop() : false);

    const context: ExpressionContext = {
      input: params.input,
      // No prototype: `steps.constructor` must not find Object's.
      steps: Object.create(null) as ExpressionContext['steps'],
      run: { id: params.run.id, workflowId: params.run.workflowId, trigger: params.run.trigger },
    };
    let lastOutput: unknown = null;

    let index = 0;
    while (index < steps.length) {
      const step = steps[index];
      const checkpoint = checkpointOf(step.id);
      if (checkpoint?.status === 'skipped') {
        index++;
        continue;
      }

      let execution: StepExecution;
      if (checkpoint?.status === 'completed') {
        execution = { output: checkpoint.output ?? null };
        if (step.type === 'condition') execution.next = recordedNext(step, execution.output);
      } else {
        if (await shouldStop()) return { status: 'cancelled' };
        if (this.now() > deadline) return timedOut(step.id);
        let interruption: Interruption | undefined;
        const result = await this.runStep(step, context, hooks, async () => {
          if (await shouldStop()) interruption = 'cancelled';
          else if (this.now() > deadline) interruption = 'run_timeout';
          return interruption === undefined;
        });
        await hooks.onStepFinished?.(result);
        if (interruption === 'cancelled') return { status: 'cancelled' };
        if (interruption === 'run_timeout') return timedOut(step.id);
        if (result.status === 'failed') return { status: 'failed', error: { ...result.error, stepId: step.id } };
        execution = { output: result.output, next: result.next };
      }

      context.steps[step.id] = { output: execution.output };
      lastOutput = execution.output;
      if (execution.next === undefined) {
        index++;
        continue;
      }
      const target = execution.next === null ? steps.length : positions.get(execution.next);
      if (target === undefined || target <= index) {
        throw new Error(`step "${step.id}" jumps to "${execution.next}", which is not a later step`);
      }
      for (let skipped = index + 1; skipped < target; skipped++) {
        const { id, type } = steps[skipped];
        // A jump taken again from a checkpoint finds the steps it skipped already recorded.
        if (checkpointOf(id) === undefined) await hooks.onStepFinished?.({ stepId: id, type, status: 'skipped' });
      }
      index = target;
    }

    if (await shouldStop()) return { status: 'cancelled' };
    if (definition.output === undefined) return { status: 'completed', output: lastOutput };
    try {
      return { status: 'completed', output: await this.evaluator.evaluate(definition.output, context) };
    } catch (err) {
      if (err instanceof ExpressionError) {
        return { status: 'failed', error: { code: err.code, message: err.message, stepId: null } };
      }
      throw err;
    }
  }

  private async runStep(
    step: StepDefinition,
    context: ExpressionContext,
    hooks: EngineHooks,
    beforeRetry: () => Promise<boolean>,
  ): Promise<ExecutedStepResult> {
    const startedAt = new Date(this.now());
    const outcome = await withRetry(
      step.retry,
      async (attempt) => {
        await hooks.onStepStarted?.(step, startedAt, attempt);
        return executeStep(step, { evaluator: this.evaluator, context });
      },
      { sleep: this.sleep, random: this.random, beforeRetry },
    );
    const finishedAt = new Date(this.now());
    const base = { stepId: step.id, type: step.type, attempts: outcome.attempts, startedAt, finishedAt };
    if (outcome.status === 'failed') {
      const { code, message } = outcome.failure;
      return { ...base, status: 'failed', error: { code, message } };
    }
    const { output, next } = outcome.value;
    return next === undefined
      ? { ...base, status: 'completed', output }
      : { ...base, status: 'completed', output, next };
  }
}

function recordedNext(step: ConditionStep, output: unknown): string | null {
  const recorded = output as { result?: unknown; next?: unknown } | null;
  if (recorded && (recorded.next === step.then || recorded.next === step.else)) {
    return recorded.next as string | null;
  }
  return recorded?.result ? step.then : step.else;
}
