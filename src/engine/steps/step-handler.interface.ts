import type { StepBase } from '../definition.types.js';
import type { JsonObject } from '../definition-fields.util.js';
import type { ExpressionEvaluator } from '../expression.evaluator.js';
import type { HttpStepExecutor } from '../http/http-step.executor.js';

/** What expressions see: `{ input, steps: { <id>: { output } }, run: { id, workflowId, trigger } }`. */
export interface ExpressionContext {
  input: unknown;
  steps: Record<string, { output: unknown }>;
  run: { id: string; workflowId: string; trigger: Record<string, unknown> };
}

export interface StepEnvironment {
  evaluator: ExpressionEvaluator;
  context: ExpressionContext;
  http: HttpStepExecutor;
  signal?: AbortSignal;
}

/** A completed attempt. `next` is set by steps that choose where the run goes on (`null`: it ends). */
export interface StepExecution {
  output: unknown;
  next?: string | null;
}

export interface DefinitionContext {
  index: number;
  positions: ReadonlyMap<string, number>;
  runTimeoutMs: number | undefined;
}

// `wait` is a state of the run, not an attempt; errors other than StepFailure are the engine's fault.
export type StepRunner<S> =
  | { kind: 'attempts'; execute(step: S, env: StepEnvironment): Promise<StepExecution> }
  | { kind: 'wait'; durationMs(step: S): number };

export interface StepHandler<S extends StepBase = StepBase> {
  readonly type: S['type'];
  readonly noun: string;
  readonly keys: readonly string[];
  /** Acts outside the run: its checkpoint is written at once, so that a run resumed after a crash does not redo it. */
  readonly sideEffects: boolean;
  parse(raw: JsonObject, id: string, label: string): S;
  check?(step: S, definition: DefinitionContext): void;
  readonly run: StepRunner<S>;
  resumeNext?(step: S, output: unknown): string | null;
}
