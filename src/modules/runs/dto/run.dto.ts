import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDefined, IsIn, IsInt, IsISO8601, IsOptional, IsString, IsUUID, Max, MaxLength, Min } from 'class-validator';

import { ListQueryDto } from '../../../common/pagination.util.js';
import {
  RUN_STATUSES,
  STEP_STATUSES,
  TRIGGER_TYPES,
  type RunStatus,
  type StepStatus,
  type TriggerType,
} from '../run-status.types.js';
import type { WorkflowRunStep } from '../workflow-run-step.entity.js';
import type { WorkflowRun } from '../workflow-run.entity.js';

export class StartRunDto {
  /**
   * The run's input: any JSON value, available to expressions as `input`.
   * @example {"companyId":"acme","deals":[{"id":1},{"id":2},{"id":3}]}
   */
  @IsDefined()
  input: unknown;
}

export class RunListQueryDto extends ListQueryDto {
  /** Only runs with this status. */
  @IsOptional()
  @IsIn(RUN_STATUSES)
  @ApiProperty({ enum: RUN_STATUSES, required: false })
  status?: RunStatus;
}

export class AllRunsQueryDto extends RunListQueryDto {
  /** Only runs of this workflow. */
  @IsOptional()
  @IsUUID()
  workflowId?: string;

  /**
   * Only runs created at or after this time (ISO 8601).
   * @example "2026-11-27T00:00:00Z"
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdFrom?: string;

  /**
   * Only runs created before this time (ISO 8601); not before `createdFrom`.
   * @example "2026-11-28T00:00:00Z"
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdTo?: string;

  /** Only runs started this way. */
  @IsOptional()
  @IsIn(TRIGGER_TYPES)
  @ApiProperty({ enum: TRIGGER_TYPES, required: false })
  triggerType?: TriggerType;
}

export class RunChangesQueryDto {
  /** Only runs with this status now. */
  @IsOptional()
  @IsIn(RUN_STATUSES)
  @ApiProperty({ enum: RUN_STATUSES, required: false })
  status?: RunStatus;

  /** Only runs of this workflow. */
  @IsOptional()
  @IsUUID()
  workflowId?: string;

  /** Only runs created at or after this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdFrom?: string;

  /** Only runs created before this time (ISO 8601). */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdTo?: string;

  /** Only runs started this way. */
  @IsOptional()
  @IsIn(TRIGGER_TYPES)
  @ApiProperty({ enum: TRIGGER_TYPES, required: false })
  triggerType?: TriggerType;

  /**
   * `nextToken` of the previous answer. Without it, the answer is empty and its `nextToken` starts the feed now.
   * Send the same filters with every token.
   */
  @IsOptional()
  @IsString()
  @MaxLength(300)
  since?: string;

  /** At most this many runs, 1 to 100. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number = 100;
}

export class RunStatsQueryDto {
  /** The window: runs created in the last this many hours, 1 to 168. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(168)
  hours?: number = 24;
}

export class BatchRunStatsQueryDto extends RunStatsQueryDto {
  /**
   * Comma-separated workflow ids, 1 to 100.
   * @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a,0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2b"
   */
  @IsString()
  @MaxLength(3700)
  workflowIds: string;
}

export class RunTriggerResponse {
  /** @example "webhook" */
  @ApiProperty({ enum: ['webhook', 'api', 'rerun'] })
  type: TriggerType;
  /**
   * The sender's `webhook-id`, for runs started by a webhook.
   * @example "msg_2b8Yz0ZQ3xQy7q"
   */
  webhookId?: string;
  /** The `Idempotency-Key` sent with `POST /v1/workflows/{id}/runs`. */
  idempotencyKey?: string;
}

export class RunErrorResponse {
  /** @example "workflow_failed" */
  code: string;
  /** @example "Deal score too low" */
  message: string;
  /** @example "reject" */
  stepId: string | null;
}

export class StepErrorResponse {
  /** @example "expression_error" */
  code: string;
  /** @example "Expression failed: The right side of the \"+\" operator must evaluate to a number" */
  message: string;
}

export class RunStepResponse {
  /** @example "score" */
  id: string;
  /** @example "transform" */
  type: string;
  /** @example "completed" */
  @ApiProperty({ enum: STEP_STATUSES })
  status: StepStatus;
  /** @example 1 */
  attempts: number;
  /** @example "2026-11-27T10:00:00.012Z" */
  startedAt: string | null;
  /** @example "2026-11-27T10:00:00.015Z" */
  finishedAt: string | null;
  /** @example 3 */
  output: unknown;
  error: StepErrorResponse | null;
}

export class RunResponse {
  /** @example "0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b" */
  id: string;
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  workflowId: string;
  /** @example 1 */
  workflowVersion: number;
  /** @example "completed" */
  @ApiProperty({ enum: RUN_STATUSES })
  status: RunStatus;
  trigger: RunTriggerResponse;
  /** The run this one re-runs, if any. */
  rerunOf: string | null;
  /** @example {"companyId":"acme","deals":[{"id":1},{"id":2},{"id":3}]} */
  input: unknown;
  /** @example {"company":"acme","score":3} */
  output: unknown;
  error: RunErrorResponse | null;
  steps: RunStepResponse[];
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** @example "2026-11-27T10:00:00.010Z" */
  startedAt: string | null;
  /** @example "2026-11-27T10:00:00.020Z" */
  completedAt: string | null;
  /**
   * The key of the definition's `concurrency` this run counts against (`""`: the workflow's one group); null
   * when the workflow has no `concurrency` or the run has not reached it yet (it still waits out a debounce).
   * @example "acme"
   */
  concurrencyKey: string | null;
  /**
   * The key of the definition's `throttle` this run's start counted against; null when not throttled (yet).
   * @example "acme"
   */
  throttleKey: string | null;
  /**
   * The key of the definition's `debounce` this run was debounced by; null when the workflow has no `debounce`.
   * @example "record-42"
   */
  debounceKey: string | null;
  /**
   * The newer run that ended this one: with `error.code` `debounced` (a newer delivery of the same debounce key)
   * or `superseded` (`concurrency.onLimit` `cancel-running`).
   * @example null
   */
  supersededBy: string | null;
  /**
   * Milliseconds the run waited before it started (`startedAt − createdAt`); while it is queued, until now; for a
   * run that ended without starting, until it ended.
   * @example 10
   */
  queuedMs: number;
}

export class RunListItemResponse extends RunResponse {
  /**
   * The workflow's current name (also for a deleted workflow).
   * @example "Score deals"
   */
  workflowName: string | null;
}

export class RunChangesResponse {
  /** Runs created or changed since the token, oldest change first. A run may appear more than once. */
  data: RunListItemResponse[];
  /**
   * Send as `since` next time. Opaque.
   * @example "eyJzIjoiMjAyNi0xMS0yN1QxMDowMDowMC4wMDBaIn0"
   */
  nextToken: string;
}

export class RunStatusCountsResponse {
  /** @example 0 */
  queued: number;
  /** @example 1 */
  running: number;
  /** @example 40 */
  completed: number;
  /** @example 2 */
  failed: number;
  /** @example 0 */
  cancelled: number;
}

export class WorkflowRunStatsResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  workflowId: string;
  /**
   * Start of the window (inclusive).
   * @example "2026-11-26T10:00:00.000Z"
   */
  from: string;
  /**
   * End of the window (exclusive): the time of the answer.
   * @example "2026-11-27T10:00:00.000Z"
   */
  to: string;
  /** Runs created in the window, by their status now. */
  counts: RunStatusCountsResponse;
}

export class AcceptedWebhookResponse {
  /** @example "0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b" */
  runId: string;
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  workflowId: string;
  /** @example "queued" */
  @ApiProperty({ enum: RUN_STATUSES })
  status: RunStatus;
}

export function toRunResponse(run: WorkflowRun): RunResponse {
  const trigger: RunTriggerResponse = { type: run.triggerType };
  if (run.webhookId !== null) trigger.webhookId = run.webhookId;
  if (run.idempotencyKey !== null) trigger.idempotencyKey = run.idempotencyKey;
  return {
    id: run.id,
    workflowId: run.workflowId,
    workflowVersion: run.workflowVersion,
    status: run.status,
    trigger,
    rerunOf: run.rerunOf,
    input: run.input ?? null,
    output: run.output ?? null,
    error: run.error,
    steps: (run.steps ?? []).map(toRunStepResponse),
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    completedAt: run.completedAt?.toISOString() ?? null,
    concurrencyKey: run.concurrencyKey ?? null,
    throttleKey: run.throttleKey ?? null,
    debounceKey: run.debounceKey ?? null,
    supersededBy: run.supersededBy ?? null,
    queuedMs: Math.max(0, (run.startedAt ?? run.completedAt ?? new Date()).getTime() - run.createdAt.getTime()),
  };
}

function toRunStepResponse(step: WorkflowRunStep): RunStepResponse {
  return {
    id: step.stepId,
    type: step.type,
    status: step.status,
    attempts: step.attempts,
    startedAt: step.startedAt?.toISOString() ?? null,
    finishedAt: step.finishedAt?.toISOString() ?? null,
    output: step.output ?? null,
    error: step.error,
  };
}
