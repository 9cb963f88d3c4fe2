import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsUUID,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

import { RUN_STATUSES, TRIGGER_TYPES, type RunStatus, type TriggerType } from '../../runs/run-status.types.js';
import type { BulkAction } from '../bulk-action.entity.js';
import {
  BULK_ACTION_STATUSES,
  BULK_ACTIONS,
  type BulkActionFailure,
  type BulkActionKind,
  type BulkActionStatus,
} from '../bulk-action.types.js';

export const MAX_BULK_LIMIT = 100_000;
export const DEFAULT_BULK_LIMIT = 1000;

/** Which runs: all of the given fields must match. `{}` matches every run (up to `limit`, newest first). */
export class BulkActionFilterDto {
  /**
   * Only runs of this workflow.
   * @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a"
   */
  @IsOptional()
  @IsUUID()
  workflowId?: string;

  /** Only runs with this status when the action is created. */
  @IsOptional()
  @IsIn(RUN_STATUSES)
  @ApiProperty({ enum: RUN_STATUSES, required: false })
  status?: RunStatus;

  /** Only runs started this way. */
  @IsOptional()
  @IsIn(TRIGGER_TYPES)
  @ApiProperty({ enum: TRIGGER_TYPES, required: false })
  triggerType?: TriggerType;

  /**
   * Only runs created at or after this time (ISO 8601), as `createdFrom` of the runs list.
   * @example "2026-11-27T00:00:00Z"
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdAfter?: string;

  /**
   * Only runs created before this time (ISO 8601), as `createdTo` of the runs list; after `createdAfter`.
   * @example "2026-11-28T00:00:00Z"
   */
  @IsOptional()
  @IsISO8601({ strict: true })
  createdBefore?: string;
}

export class CreateBulkActionDto {
  /**
   * `cancel` runs that have not finished, `retry` failed runs from their failed step, or `rerun` runs (new runs with
   * the same input and workflow version).
   * @example "cancel"
   */
  @IsIn(BULK_ACTIONS)
  @ApiProperty({ enum: BULK_ACTIONS })
  action: BulkActionKind;

  /** The runs to act on; the set is fixed when the action is created. */
  @IsDefined()
  @IsObject()
  @ValidateNested()
  @Type(() => BulkActionFilterDto)
  filter: BulkActionFilterDto;

  /**
   * At most this many runs (the newest that match), 1 to 100000.
   * @example 1000
   */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_BULK_LIMIT)
  limit?: number = DEFAULT_BULK_LIMIT;
}

export class BulkActionFilterResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  workflowId?: string;
  @ApiProperty({ enum: RUN_STATUSES, required: false })
  status?: RunStatus;
  @ApiProperty({ enum: TRIGGER_TYPES, required: false })
  triggerType?: TriggerType;
  /** @example "2026-11-27T00:00:00.000Z" */
  createdAfter?: string;
  /** @example "2026-11-28T00:00:00.000Z" */
  createdBefore?: string;
}

export class BulkActionFailureResponse {
  /** @example "0193a8f2-6c1d-7e55-8b2a-3c4d5e6f7a8b" */
  runId: string;
  /**
   * The error code the single-run endpoint answers for this run.
   * @example "run_finished"
   */
  code: string;
  /** @example "Run has already finished" */
  reason: string;
}

export class BulkActionResponse {
  /** @example "0193a8f2-7d2e-7f66-9c3b-4d5e6f7a8b9c" */
  id: string;
  /** @example "cancel" */
  @ApiProperty({ enum: BULK_ACTIONS })
  action: BulkActionKind;
  /**
   * `queued` until a worker takes it, `running`, then `completed` once every matched run is done or failed.
   * @example "running"
   */
  @ApiProperty({ enum: BULK_ACTION_STATUSES })
  status: BulkActionStatus;
  filter: BulkActionFilterResponse;
  /** @example 1000 */
  limit: number;
  /**
   * Runs that matched when the action was created (at most `limit`); runs created later are never touched.
   * @example 250
   */
  matched: number;
  /**
   * Runs the action was applied to so far.
   * @example 120
   */
  done: number;
  /**
   * Runs the action did not fit so far (e.g. retry of a completed run); see `failures`.
   * @example 3
   */
  failed: number;
  /** The first 100 failed runs (newest run first), each with its reason. */
  failures: BulkActionFailureResponse[];
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** @example "2026-11-27T10:00:02.500Z" */
  completedAt: string | null;
}

export function toBulkActionResponse(action: BulkAction, failures: BulkActionFailure[]): BulkActionResponse {
  return {
    id: action.id,
    action: action.action,
    status: action.status,
    filter: action.filter,
    limit: action.limit,
    matched: action.matched,
    done: action.done,
    failed: action.failed,
    failures,
    createdAt: action.createdAt.toISOString(),
    completedAt: action.completedAt?.toISOString() ?? null,
  };
}
