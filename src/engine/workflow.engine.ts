import { abortable } from './abort.util.js';
import {
  DEFAULT_RUN_TIMEOUT_MS,
  type StepDefinition,
  type StepType,
  type WorkflowDefinition,
} from './definition.types.js';
import { ExpressionError, type ExpressionEvaluator } from './expression.evaluator.js';
import { HttpStepExecutor, type HttpStepOptions } from './http/http-step.executor.js';
import { withRetry } from './retry.policy.js';
import { StepFailure } from './step-failure.error.js';
import type { ExpressionContext, StepEnvironment, StepExecution } from './steps/step-handler.interface.js';
import { stepHandlerOf } from './steps/step.registry.js';

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

export interface WaitingStepResult {
  stepId: string;
  type: StepType;
  status: 'waiting';
  attempts: number;
  startedAt: Date;
  until: Date;
}

/** What an earlier execution recorded for a step; `waiting`: a started delay, run again once `until` has passed. */
export interface Checkpoint {
  status: 'completed' | 'skipped' | 'waiting';
  output?: unknown;
  until?: Date;
  startedAt?: Date;
}

/** Called as the run goes; their errors (failed writes) propagate out of `run`. */
export interface EngineHooks {
  onStepStarted?(step: StepDefinition, startedAt: Date, attempt: number): Promise<void>;
  /** Never for steps taken from `completed` or `skipped` checkpoints. */
  onStepFinished?(result: StepResult): Promise<void>;
  onStepWaiting?(result: WaitingStepResult): Promise<void>;
  shouldStop?(): Promise<boolean>;
}

export type RunOutcome =
  | { status: 'completed'; output: unknown }
  | { status: 'failed'; error: { code: string; message: string; stepId: string | null } }
  | { status: 'cancelled' }
  | { status: 'waiting'; stepId: string; until: Date };

export interface RunParams {
  input: unknown;
  run: RunInfo;
  checkpoints?: Record<string, Checkpoint>;
  /** The run's time limit counts from it. */
  startedAt?: Date;
  signal?: AbortSignal;
}

export interface WorkflowEngineOptions {
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  http?: HttpStepOptions;
}

type Interruption = 'cancelled' | 'run_timeout';

type ExecutedStepResult = Exclude<StepResult, { status: 'skipped' }>;

interface RunLimits {
  deadline: number;
  timeoutMs: number;
}

export class WorkflowEngine {
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly http: HttpStepExecutor;

  constructor(
    private readonly evaluator: ExpressionEvaluator,
    options: WorkflowEngineOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleep;
    this.random = options.random ?? Math.random;
    this.http = new HttpStepExecutor(options.http);
  }

  async run(definition: WorkflowDefinition, params: RunParams, hooks: EngineHooks = {}): Promise<RunOutcome> {
    const { steps } = definition;
    const positions = new Map(steps.map((step, index) => [step.id, index]));
    const checkpoints = params.checkpoints ?? {};
    const checkpointOf = (id: string): Checkpoint | undefined =>
      Object.hasOwn(checkpoints, id) ? checkpoints[id] : undefined;
    const timeoutMs = definition.timeoutMs ?? DEFAULT_RUN_TIMEOUT_MS;
    const deadline = (params.startedAt?.getTime() ?? this.now()) + timeoutMs;
    const limits: RunLimits = { deadline, timeoutMs };
    const { signal } = params;
    const shouldStop = async (): Promise<boolean> =>
      signal?.aborted === true || (hooks.shouldStop ? hooks.shouldStop() : false);

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

      const handler = stepHandlerOf(step);
      let execution: StepExecution;
      if (checkpoint?.status === 'completed') {
        execution = { output: checkpoint.output ?? null };
        if (handler.resumeNext) execution.next = handler.resumeNext(step, execution.output);
      } else if (handler.run.kind === 'wait') {
        if (await shouldStop()) return { status: 'cancelled' };
        const wait = await this.runWait(step, handler.run.durationMs(step), checkpoint, limits, hooks);
        if ('outcome' in wait) return wait.outcome;
        execution = { output: wait.output };
      } else {
        if (await shouldStop()) return { status: 'cancelled' };
        if (this.now() > deadline) return timedOut(step.id, limits);
        let interruption: Interruption | undefined;
        const { execute } = handler.run;
        const attempt = (env: StepEnvironment) => execute(step, env);
        const result = await this.runStep(step, attempt, context, hooks, signal, async () => {
          if (await shouldStop()) interruption = 'cancelled';
          else if (this.now() > deadline) interruption = 'run_timeout';
          return interruption === undefined;
        });
        await hooks.onStepFinished?.(result);
        if (interruption === 'cancelled' || signal?.aborted) return { status: 'cancelled' };
        if (interruption === 'run_timeout') return timedOut(step.id, limits);
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

  /** Never sleeps: the caller runs the workflow again once `until` has passed. */
  private async runWait(
    step: StepDefinition,
    durationMs: number,
    checkpoint: Checkpoint | undefined,
    limits: RunLimits,
    hooks: EngineHooks,
  ): Promise<{ outcome: RunOutcome } | { output: unknown }> {
    const now = this.now();
    if (checkpoint?.status === 'waiting') {
      const until = timeOf(checkpoint.until, step.id, 'until');
      if (now < until) return { outcome: { status: 'waiting', stepId: step.id, until: new Date(until) } };
      const startedAt = new Date(
        checkpoint.startedAt === undefined ? until - durationMs : timeOf(checkpoint.startedAt, step.id, 'startedAt'),
      );
      const output = { waitedMs: now - startedAt.getTime() };
      await hooks.onStepFinished?.({
        stepId: step.id,
        type: step.type,
        status: 'completed',
        output,
        attempts: 1,
        startedAt,
        finishedAt: new Date(now),
      });
      return { output };
    }

    if (now > limits.deadline) return { outcome: timedOut(step.id, limits) };
    const until = now + durationMs;
    // Waiting for a run that will have timed out by then would only delay the failure.
    if (until > limits.deadline) {
      const message = `the run cannot finish within ${limits.timeoutMs} ms: the ${durationMs} ms delay would end after it`;
      return { outcome: { status: 'failed', error: { code: 'run_timeout', message, stepId: step.id } } };
    }
    const startedAt = new Date(now);
    await hooks.onStepStarted?.(step, startedAt, 1);
    await hooks.onStepWaiting?.({
      stepId: step.id,
      type: step.type,
      status: 'waiting',
      attempts: 1,
      startedAt,
      until: new Date(until),
    });
    return { outcome: { status: 'waiting', stepId: step.id, until: new Date(until) } };
  }

  private async runStep(
    step: StepDefinition,
    execute: (env: StepEnvironment) => Promise<StepExecution>,
    context: ExpressionContext,
    hooks: EngineHooks,
    signal: AbortSignal | undefined,
    beforeRetry: () => Promise<boolean>,
  ): Promise<ExecutedStepResult> {
    const startedAt = new Date(this.now());
    const outcome = await withRetry(
      step.retry,
      async (attempt) => {
        await hooks.onStepStarted?.(step, startedAt, attempt);
        try {
          return await execute({ evaluator: this.evaluator, context, http: this.http, signal });
        } catch (err) {
          if (err instanceof ExpressionError) throw new StepFailure(err.code, err.message);
          throw err;
        }
      },
      { sleep: (ms) => this.backoff(ms, signal), random: this.random, beforeRetry },
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

  private async backoff(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await abortable(this.sleep(ms, signal), signal);
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
  }
}

function timedOut(stepId: string, limits: RunLimits): RunOutcome {
  return {
    status: 'failed',
    error: { code: 'run_timeout', message: `the run did not finish within ${limits.timeoutMs} ms`, stepId },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Checkpoints come from storage: a `waiting` one without a valid time is the caller's fault, not the workflow's. */
function timeOf(value: Date | undefined, stepId: string, field: string): number {
  const time = value instanceof Date ? value.getTime() : NaN;
  if (Number.isNaN(time)) {
    throw new Error(`the waiting checkpoint of step "${stepId}" has no valid ${field} (a Date)`);
  }
  return time;
}
