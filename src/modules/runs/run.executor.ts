import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import { ChangeFeed } from '../../common/change.feed.js';
import { isDatabaseUnavailable } from '../../common/database-errors.util.js';
import { about, type LogFields } from '../../common/log.context.js';
import { APP_CONFIG, type AppConfig } from '../../config/app.config.js';
import {
  DEFAULT_FLOW_KEY,
  ExpressionError,
  ExpressionEvaluator,
  FlowKeyError,
  flowKeyValue,
  hasFlowControl,
  stepHasSideEffects,
  WorkflowEngine,
  type Checkpoint,
  type EngineHooks,
  type StepResult,
  type WorkflowDefinition,
} from '../../engine/index.js';
import { MetricsRegistry } from '../metrics/metrics.registry.js';
import { StepSecretsService } from '../secrets/step-secrets.service.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import type { PendingFlowRun } from './flow-control.repository.js';
import { FlowControlService, type Admission, type FlowKeys } from './flow-control.service.js';
import { RunClaimsRepository, type StepRow } from './run-claims.repository.js';
import type { WorkflowRun } from './workflow-run.entity.js';

// Versions are immutable once written, so caching their definitions for the process lifetime is safe.
const DEFINITION_CACHE_SIZE = 500;

// Retry fenced writes through a PostgreSQL outage: giving the job up after an http step would send it again.
const CHECKPOINT_RETRY_MS = 60_000;
const CHECKPOINT_BACKOFF_MS = { first: 200, max: 5000 };

// `handed-back`: this process is stopping; another worker resumes the run from its checkpoints.
export type ExecutionResult = { kind: 'done' } | { kind: 'waiting'; until: Date } | { kind: 'handed-back' };

class HandedBack extends Error {}

interface Execution {
  /** The ids on every line logged about it. */
  run: LogFields;
  abort: AbortController;
  handingBack: boolean;
}

// Every write is fenced by the claim's attempt number: a stale worker cannot overwrite a newer result.
@Injectable()
export class RunExecutor implements OnModuleDestroy {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly engine: WorkflowEngine;
  private readonly evaluator: ExpressionEvaluator;
  private readonly definitions = new Map<string, WorkflowDefinition>();
  private readonly executions = new Set<Execution>();
  private readonly cancellable = new Map<string, AbortController>();
  private readonly stopListening: () => void;
  private handingBack = false;

  constructor(
    private readonly runs: RunClaimsRepository,
    private readonly workflows: WorkflowsService,
    private readonly flow: FlowControlService,
    private readonly metrics: MetricsRegistry,
    @Inject(APP_CONFIG) config: AppConfig,
    changes: ChangeFeed,
    stepSecrets: StepSecretsService,
  ) {
    this.stopListening = changes.onRunCancelled({
      cancelled: (runId) => this.cancellable.get(runId)?.abort(),
      reconnected: () => this.recheckCancellations(),
    });
    this.evaluator = new ExpressionEvaluator({
      timeoutMs: config.expressionTimeoutMs,
      threads: config.expressionThreads,
    });
    this.engine = new WorkflowEngine(this.evaluator, {
      http: {
        allowedHosts: config.httpStepAllowedHosts,
        protectedPorts: config.httpStepProtectedPorts,
        secrets: stepSecrets,
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.stopListening();
    await this.evaluator.close();
  }

  async execute(runId: string): Promise<ExecutionResult> {
    let run = await this.runs.claim(runId, new Date());
    if (!run) {
      // The claim leaves queued runs of flow-controlled workflows alone: they are admitted here, or wait.
      const admission = await this.admit(runId);
      if (admission.kind === 'waiting') return { kind: 'waiting', until: admission.until };
      if (admission.kind !== 'admitted') return { kind: 'done' };
      run = admission.run;
    }
    // Every claim adds one to the attempt: the first is the run's start, later ones resume it (a wait, a lost worker).
    if (run.attempt === 1) this.metrics.runStarted(run.workflowId);
    // Claimed during hand-back: it goes back too, before any step runs.
    if (this.handingBack) return { kind: 'handed-back' };
    const execution: Execution = {
      run: { runId: run.id, workflowId: run.workflowId },
      abort: new AbortController(),
      handingBack: false,
    };
    this.executions.add(execution);
    try {
      return await this.executeClaimed(run, execution);
    } catch (error) {
      if (execution.handingBack) return { kind: 'handed-back' };
      throw error;
    } finally {
      this.executions.delete(execution);
    }
  }

  // Aborts without writing more: the run stays `running` with its checkpoints and another worker resumes it.
  handBackAll(): number {
    this.handingBack = true;
    for (const execution of this.executions) {
      execution.handingBack = true;
      execution.abort.abort(new HandedBack('handed back: the worker is stopping'));
    }
    return this.executions.size;
  }

  private async executeClaimed(run: WorkflowRun, execution: Execution): Promise<ExecutionResult> {
    const attempt = run.attempt;
    const definition = await this.definitionOf(run.workflowId, run.workflowVersion);
    const steps = new StepBook(definition, run);
    const cancelled = execution.abort;
    // Side-effect-free results ride on the next mandatory write: re-running them after a crash is harmless.
    const flush = async () => {
      // Refused: cancelled or claimed elsewhere since; stop before any further side effect.
      const written = await this.persist(execution, () => this.runs.writeSteps(run.id, attempt, steps.takeDirty()));
      if (!written) cancelled.abort();
    };

    // A cancellation missed while the feed was down is caught on reconnect or by the next fenced write.
    this.cancellable.set(run.id, cancelled);
    const hooks: EngineHooks = {
      onStepStarted: async (step, startedAt, stepAttempt) => {
        steps.update(step.id, { status: 'running', attempts: stepAttempt, startedAt, finishedAt: null });
        if (stepHasSideEffects(step.type)) await flush();
      },
      onStepFinished: async (result) => {
        if (execution.handingBack) return;
        if (result.status !== 'skipped') {
          this.metrics.stepFinished(result.type, result.status, result.startedAt, result.finishedAt);
        }
        steps.update(result.stepId, toStepState(result));
        // A side effect's checkpoint is written at once so a resumed run does not repeat it.
        if (stepHasSideEffects(result.type)) await flush();
      },
      onStepWaiting: async (result) => {
        steps.update(result.stepId, { status: 'waiting', attempts: result.attempts, startedAt: result.startedAt });
        await flush();
        await this.persist(execution, () => this.runs.setWakeAt(run.id, attempt, result.until));
      },
      shouldStop: async () => cancelled.signal.aborted,
    };

    try {
      const outcome = await this.engine.run(
        definition,
        {
          input: run.input,
          run: { id: run.id, workflowId: run.workflowId, trigger: triggerOf(run) },
          checkpoints: checkpointsOf(run),
          startedAt: run.startedAt ?? undefined,
          signal: cancelled.signal,
        },
        hooks,
      );
      if (execution.handingBack) return { kind: 'handed-back' };
      switch (outcome.status) {
        case 'completed':
        case 'failed': {
          const end =
            outcome.status === 'completed'
              ? { status: 'completed' as const, output: outcome.output }
              : { status: 'failed' as const, error: outcome.error };
          const last = steps.takeDirty();
          const endedAt = new Date();
          // Refused when it was cancelled or claimed by another worker meanwhile: that end is counted where it happens.
          if (await this.persist(execution, () => this.runs.finish(run.id, attempt, end, endedAt, last))) {
            this.metrics.runEnded(run.workflowId, end.status, run.startedAt, endedAt);
          }
          if (definition.concurrency) await this.flow.handOverAfterEnd(run, definition);
          return { kind: 'done' };
        }
        case 'waiting':
          return { kind: 'waiting', until: outcome.until };
        case 'cancelled':
          this.logger.log(about(execution.run, `Run ${run.id} stopped: it was cancelled or claimed by another worker`));
          return { kind: 'done' };
      }
    } finally {
      this.cancellable.delete(run.id);
    }
  }

  private recheckCancellations(): void {
    for (const [runId, cancelled] of this.cancellable) {
      this.runs.statusOf(runId).then(
        (status) => status === 'cancelled' && cancelled.abort(),
        () => undefined,
      );
    }
  }

  // Retried while PostgreSQL is unreachable: the recorded work (an http request) would be repeated if the job were given up.
  private async persist<T>(execution: Execution, write: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + CHECKPOINT_RETRY_MS;
    for (let delay = CHECKPOINT_BACKOFF_MS.first; ; delay = Math.min(delay * 2, CHECKPOINT_BACKOFF_MS.max)) {
      if (execution.handingBack) throw new HandedBack();
      try {
        return await write();
      } catch (error) {
        const stopped = execution.abort.signal.aborted;
        if (!isDatabaseUnavailable(error) || stopped || Date.now() + delay > giveUpAt) throw error;
        this.logger.warn(
          about(execution.run, `A checkpoint write waits for the database (${(error as Error).message}); retrying`),
        );
        await sleepUnlessAborted(delay, execution.abort.signal);
      }
    }
  }

  // A job that failed every attempt is a bug, not a step: end the run failed rather than loop.
  async giveUp(runId: string, attempts: number): Promise<void> {
    const endedAt = new Date();
    const ended = await this.runs.failUnfinished(
      runId,
      { code: 'internal_error', message: `The run could not be executed (${attempts} attempts)`, stepId: null },
      endedAt,
    );
    if (ended) this.metrics.runEnded(ended.workflowId, 'failed', ended.startedAt, endedAt);
    await this.flow.wakeAfterEnd(runId);
  }

  private async admit(runId: string): Promise<Admission> {
    const pending = await this.flow.findPending(runId);
    if (!pending) return { kind: 'ended' };
    const definition = await this.definitionOf(pending.workflowId, pending.workflowVersion);
    let keys: FlowKeys;
    try {
      keys = await this.flowKeys(definition, pending);
    } catch (error) {
      if (!(error instanceof FlowKeyError)) throw error;
      if (await this.flow.failKey(pending, error.message)) {
        this.metrics.runEnded(pending.workflowId, 'failed', null, new Date());
      }
      return { kind: 'ended' };
    }
    return this.flow.admit(pending, definition, keys);
  }

  /** Stored keys are reused: a key is computed once, from the input as it was at the first try. */
  private async flowKeys(definition: WorkflowDefinition, run: PendingFlowRun): Promise<FlowKeys> {
    const keys: FlowKeys = {};
    if (!hasFlowControl(definition)) return keys;
    const stored = { concurrency: run.concurrencyKey, throttle: run.throttleKey, debounce: run.debounceKey };
    for (const kind of ['concurrency', 'throttle', 'debounce'] as const) {
      const control = definition[kind];
      if (!control) continue;
      const known = stored[kind];
      if (known !== null) keys[kind] = known;
      else if (control.key === undefined) keys[kind] = DEFAULT_FLOW_KEY;
      else keys[kind] = flowKeyValue(await this.evaluateKey(control.key, run.input, kind), `${kind}.key`);
    }
    return keys;
  }

  private async evaluateKey(expression: string, input: unknown, kind: string): Promise<unknown> {
    try {
      return await this.evaluator.evaluate(expression, { input });
    } catch (error) {
      if (error instanceof ExpressionError) throw new FlowKeyError(`${kind}.key failed: ${error.message}`);
      throw error;
    }
  }

  private async definitionOf(workflowId: string, version: number): Promise<WorkflowDefinition> {
    const key = `${workflowId}@${version}`;
    const cached = this.definitions.get(key);
    if (cached) return cached;
    const definition = await this.workflows.definitionOf(workflowId, version);
    if (this.definitions.size >= DEFINITION_CACHE_SIZE) {
      this.definitions.delete(this.definitions.keys().next().value as string);
    }
    this.definitions.set(key, definition);
    return definition;
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

type StepState = Partial<Omit<StepRow, 'stepId' | 'position' | 'type'>>;

function toStepState(result: StepResult): StepState {
  switch (result.status) {
    case 'completed':
      return {
        status: 'completed',
        attempts: result.attempts,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        output: result.output,
        error: null,
      };
    case 'failed':
      return {
        status: 'failed',
        attempts: result.attempts,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        output: null,
        error: result.error,
      };
    case 'skipped':
      return { status: 'skipped', output: null, error: null };
  }
}

// On a first claim every row is new, pending ones included, so that the API lists them.
class StepBook {
  private readonly rows = new Map<string, StepRow>();
  private readonly dirty = new Set<string>();

  constructor(definition: WorkflowDefinition, run: WorkflowRun) {
    const stored = new Map((run.steps ?? []).map((s) => [s.stepId, s]));
    definition.steps.forEach((step, position) => {
      const saved = stored.get(step.id);
      this.rows.set(step.id, {
        stepId: step.id,
        position,
        type: step.type,
        status: saved?.status ?? 'pending',
        attempts: saved?.attempts ?? 0,
        startedAt: saved?.startedAt ?? null,
        finishedAt: saved?.finishedAt ?? null,
        output: saved?.output ?? null,
        error: saved?.error ?? null,
      });
      if (!saved) this.dirty.add(step.id);
    });
  }

  update(stepId: string, state: StepState): void {
    const row = this.rows.get(stepId);
    if (!row) return;
    Object.assign(row, state);
    this.dirty.add(stepId);
  }

  takeDirty(): StepRow[] {
    const rows = [...this.dirty].map((id) => ({ ...(this.rows.get(id) as StepRow) }));
    this.dirty.clear();
    return rows;
  }
}

function checkpointsOf(run: WorkflowRun): Record<string, Checkpoint> {
  const checkpoints: Record<string, Checkpoint> = {};
  for (const step of run.steps ?? []) {
    if (step.status === 'completed') checkpoints[step.stepId] = { status: 'completed', output: step.output };
    if (step.status === 'waiting' && run.wakeAt) {
      checkpoints[step.stepId] = { status: 'waiting', until: run.wakeAt, startedAt: step.startedAt ?? undefined };
    }
  }
  return checkpoints;
}

function triggerOf(run: WorkflowRun): Record<string, unknown> {
  const trigger: Record<string, unknown> = { type: run.triggerType };
  if (run.webhookId !== null) trigger.webhookId = run.webhookId;
  if (run.idempotencyKey !== null) trigger.idempotencyKey = run.idempotencyKey;
  return trigger;
}
