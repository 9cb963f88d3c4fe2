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
  /** Aborts work in flight (an http request); the attempt then fails with `cancelled`. */
  signal?: AbortSignal;
}

/** A completed attempt. `next` is set by steps that choose where the run goes on (`null`: it ends). */
export interface StepExecution {
  output: unknown;
  next?: string | null;
}

/** What a check that needs the whole definition may look at. */
export interface DefinitionContext {
  index: number;
  positions: ReadonlyMap<string, number>;
  /** The definition's own timeoutMs, undefined when it relies on the default. */
  runTimeoutMs: number | undefined;
}

/**
 * `attempts`: each attempt calls `execute`, which throws `StepFailure` for a failed attempt (any other error is a
 * fault of the engine, not of the workflow); retries are the engine's. `wait`: a state of the run, not an attempt:
 * the engine records it as waiting and runs the workflow again once the duration has passed.
 */
export type StepRunner<S> =
  | { kind: 'attempts'; execute(step: S, env: StepEnvironment): Promise<StepExecution> }
  | { kind: 'wait'; durationMs(step: S): number };

/** One step type. Declared in `<type>.step.ts` and listed once in `step.registry.ts`. */
export interface StepHandler<S extends StepBase = StepBase> {
  readonly type: S['type'];
  /** How error messages name a step of this type: "an http step". */
  readonly noun: string;
  /** Its own properties, besides `id`, `type`, `retry` and `timeoutMs`. */
  readonly keys: readonly string[];
  /**
   * True when running it acts outside the run (a request sent, a wait started): its checkpoint is then written at
   * once, so that a run resumed after a crash does not do it again.
   */
  readonly sideEffects: boolean;
  /** Builds the step from its JSON, whose keys are known to be in `keys`; throws `DefinitionError`. */
  parse(raw: JsonObject, id: string, label: string): S;
  /** Checks that need the other steps or the definition's own fields. */
  check?(step: S, definition: DefinitionContext): void;
  readonly run: StepRunner<S>;
  /** For a step that jumps: the jump it took, read back from its checkpointed output. */
  resumeNext?(step: S, output: unknown): string | null;
}
