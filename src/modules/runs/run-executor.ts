import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import {
  ExpressionEvaluator,
  WorkflowEngine,
  type Checkpoint,
  type EngineHooks,
  type StepResult,
  type WorkflowDefinition,
} from '../../engine/index.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { RunsRepository, type StepRow } from './runs.repository.js';
import type { WorkflowRun } from './workflow-run.entity.js';

/** Versions never change once written, so their definitions are cached for as long as the process lives. */
const DEFINITION_CACHE_SIZE = 500;
/** How often a run in progress looks whether it was cancelled, to abort an http request in flight. */
const CANCEL_POLL_MS = 500;

/** What the processor does with the job once an execution returns. */
export type ExecutionResult = { kind: 'done' } | { kind: 'waiting'; until: Date };

/**
 * Executes one run: claims it, hands it to the engine with the checkpoints of steps that already
 * completed, and records what the engine reports. Every write is fenced by the claim's attempt number,
 * so a stale worker can never overwrite a newer result, and a terminal status never changes.
 */
@Injectable()
export class RunExecutor implements OnModuleDestroy {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly engine: WorkflowEngine;
  private readonly evaluator: ExpressionEvaluator;
  private readonly definitions = new Map<string, WorkflowDefinition>();

  constructor(
    private readonly runs: RunsRepository,
    private readonly workflows: WorkflowsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.evaluator = new ExpressionEvaluator({
      timeoutMs: config.expressionTimeoutMs,
      threads: config.expressionThreads,
    });
    this.engine = new WorkflowEngine(this.evaluator, {
      http: { allowedHosts: config.httpStepAllowedHosts },
    });
  }

  /** After the workers have drained: stops the expression threads. */
  async onModuleDestroy(): Promise<void> {
    await this.evaluator.close();
  }

  async execute(runId: string): Promise<ExecutionResult> {
    const run = await this.runs.claim(runId, new Date());
    if (!run) return { kind: 'done' };
    const attempt = run.attempt;
    const definition = await this.definitionOf(run.workflowId, run.workflowVersion);
    const steps = new StepBook(definition, run);
    // Results of steps without side effects are written with the next write that must happen anyway
    // (before an http request, at a delay, at the end): re-running them after a crash gives the same result.
    const cancelled = new AbortController();
    const flush = async () => {
      // A refused write means the run was cancelled or another worker claimed it since: stop here,
      // before any further side effect.
      if (!(await this.runs.writeSteps(run.id, attempt, steps.takeDirty()))) cancelled.abort();
    };

    const poll = setInterval(() => {
      this.runs.statusOf(run.id).then(
        (status) => status === 'cancelled' && cancelled.abort(),
        () => undefined,
      );
    }, CANCEL_POLL_MS);
    const hooks: EngineHooks = {
      onStepStarted: async (step, startedAt, stepAttempt) => {
        steps.update(step.id, { status: 'running', attempts: stepAttempt, startedAt, finishedAt: null });
        if (hasSideEffects(step.type)) await flush();
      },
      onStepFinished: async (result) => {
        steps.update(result.stepId, toStepState(result));
        // The checkpoint of a side effect is written at once, so that a resumed run does not repeat it.
        if (hasSideEffects(result.type)) await flush();
      },
      onStepWaiting: async (result) => {
        steps.update(result.stepId, { status: 'waiting', attempts: result.attempts, startedAt: result.startedAt });
        await flush();
        await this.runs.setWakeAt(run.id, attempt, result.until);
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
      switch (outcome.status) {
        case 'completed':
          await this.runs.finish(
            run.id,
            attempt,
            { status: 'completed', output: outcome.output },
            new Date(),
            steps.takeDirty(),
          );
          return { kind: 'done' };
        case 'failed':
          await this.runs.finish(
            run.id,
            attempt,
            { status: 'failed', error: outcome.error },
            new Date(),
            steps.takeDirty(),
          );
          return { kind: 'done' };
        case 'waiting':
          return { kind: 'waiting', until: outcome.until };
        case 'cancelled':
          this.logger.log(`Run ${run.id} stopped: it was cancelled or claimed by another worker`);
          return { kind: 'done' };
      }
    } finally {
      clearInterval(poll);
    }
  }

  /** A run whose job failed every attempt (a bug, not a step) ends failed rather than looping forever. */
  async giveUp(runId: string, attempts: number): Promise<void> {
    await this.runs.failUnfinished(
      runId,
      { code: 'internal_error', message: `The run could not be executed (${attempts} attempts)`, stepId: null },
      new Date(),
    );
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

function hasSideEffects(type: string): boolean {
  return type === 'http' || type === 'delay';
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

/**
 * The state of every step of one run in this execution, and which rows changed since they were last
 * written. On a first claim every row is new (pending ones included, so that the API lists them).
 */
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

/** Completed steps are not run again; a waiting delay goes on from when it started. */
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
