import { Inject, Injectable, Logger } from '@nestjs/common';

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
import { RunsRepository } from './runs.repository.js';
import type { WorkflowRun } from './workflow-run.entity.js';

/** Versions never change once written, so their definitions are cached for as long as the process lives. */
const DEFINITION_CACHE_SIZE = 500;

/**
 * Executes one run: claims it, hands it to the engine with the checkpoints of steps that already
 * completed, and records what the engine reports. Every write is fenced by the claim's attempt number.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);
  private readonly engine: WorkflowEngine;
  private readonly definitions = new Map<string, WorkflowDefinition>();

  constructor(
    private readonly runs: RunsRepository,
    private readonly workflows: WorkflowsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.engine = new WorkflowEngine(new ExpressionEvaluator({ timeoutMs: config.expressionTimeoutMs }));
  }

  async execute(runId: string): Promise<void> {
    const run = await this.runs.claim(runId, new Date());
    if (!run) return;
    const attempt = run.attempt;
    const definition = await this.definitionOf(run.workflowId, run.workflowVersion);
    await this.runs.ensureSteps(run.id, definition.steps);

    const hooks: EngineHooks = {
      onStepStarted: async (step, startedAt, stepAttempt) => {
        await this.runs.recordStep(run.id, attempt, {
          stepId: step.id,
          status: 'running',
          attempts: stepAttempt,
          startedAt,
          finishedAt: null,
        });
      },
      onStepFinished: async (result) => {
        await this.runs.recordStep(run.id, attempt, toStepRecord(result));
      },
      shouldStop: async () => (await this.runs.statusOf(run.id)) !== 'running',
    };

    const outcome = await this.engine.run(
      definition,
      {
        input: run.input,
        run: { id: run.id, workflowId: run.workflowId, trigger: triggerOf(run) },
        checkpoints: checkpointsOf(run),
        startedAt: run.startedAt ?? undefined,
      },
      hooks,
    );
    switch (outcome.status) {
      case 'completed':
        await this.runs.finish(run.id, attempt, { status: 'completed', output: outcome.output }, new Date());
        return;
      case 'failed':
        await this.runs.finish(run.id, attempt, { status: 'failed', error: outcome.error }, new Date());
        return;
      case 'cancelled':
        this.logger.log(`Run ${run.id} stopped: it was cancelled`);
        return;
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

function toStepRecord(result: StepResult) {
  switch (result.status) {
    case 'completed':
      return {
        stepId: result.stepId,
        status: 'completed' as const,
        attempts: result.attempts,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        output: result.output,
        error: null,
      };
    case 'failed':
      return {
        stepId: result.stepId,
        status: 'failed' as const,
        attempts: result.attempts,
        startedAt: result.startedAt,
        finishedAt: result.finishedAt,
        error: result.error,
      };
    case 'skipped':
      return { stepId: result.stepId, status: 'skipped' as const };
  }
}

function checkpointsOf(run: WorkflowRun): Record<string, Checkpoint> {
  const checkpoints: Record<string, Checkpoint> = {};
  for (const step of run.steps ?? []) {
    if (step.status === 'completed') checkpoints[step.stepId] = { status: 'completed', output: step.output };
  }
  return checkpoints;
}

function triggerOf(run: WorkflowRun): Record<string, unknown> {
  const trigger: Record<string, unknown> = { type: run.triggerType };
  if (run.webhookId !== null) trigger.webhookId = run.webhookId;
  if (run.idempotencyKey !== null) trigger.idempotencyKey = run.idempotencyKey;
  return trigger;
}
