import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  Max,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';

import { RUN_RETENTION_DAYS } from '../../../config/app.config.js';
import type { WorkflowVersion } from '../workflow-version.entity.js';
import type { WorkflowTriggerSummary } from '../workflow-triggers.port.js';
import type { Workflow } from '../workflow.entity.js';

// 1 and 2 are refused: a run holds its deduplication keys, which API.md keeps for 72 hours.
const NOT_UNDER_THREE_DAYS = ValidateBy({
  name: 'runRetentionDays',
  validator: {
    validate: (value: unknown) => typeof value !== 'number' || value === 0 || value >= RUN_RETENTION_DAYS.min,
    defaultMessage: () =>
      `runRetentionDays must be 0 (keep forever) or from ${RUN_RETENTION_DAYS.min} to ${RUN_RETENTION_DAYS.max}`,
  },
});

export class CreateWorkflowDto {
  /** @example "Score new deals" */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  /** @example "Scores the deals a CRM sends and keeps the big ones" */
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  /**
   * The steps to run, in order, and the run's output (JSONata). See API.md "Workflow definitions".
   * @example {"steps":[{"id":"score","type":"transform","expression":"$count(input.deals)"}],"output":"steps.score.output"}
   */
  @IsObject()
  definition: Record<string, unknown>;

  /**
   * Days its finished runs (and their steps) are kept after they end: 0 keeps them forever, from 3 to 3650
   * otherwise; `null` (the default) follows RUN_RETENTION_DAYS.
   * @example 90
   */
  @IsOptional()
  @ValidateIf((_o, value) => value !== null)
  @IsInt()
  @Min(0)
  @Max(RUN_RETENTION_DAYS.max)
  @NOT_UNDER_THREE_DAYS
  runRetentionDays?: number | null;
}

export class UpdateWorkflowDto {
  /** @example "Score new deals" */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  /** `null` clears it. */
  @IsOptional()
  @ValidateIf((_o, value) => value !== null)
  @IsString()
  @MaxLength(2000)
  description?: string | null;

  /** A new definition makes a new version. */
  @IsOptional()
  @IsObject()
  definition?: Record<string, unknown>;

  /** A disabled workflow starts no runs. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  /**
   * Days its finished runs (and their steps) are kept after they end: 0 keeps them forever, from 3 to 3650
   * otherwise; `null` follows RUN_RETENTION_DAYS.
   * @example 90
   */
  @IsOptional()
  @ValidateIf((_o, value) => value !== null)
  @IsInt()
  @Min(0)
  @Max(RUN_RETENTION_DAYS.max)
  @NOT_UNDER_THREE_DAYS
  runRetentionDays?: number | null;
}

export class RestoreVersionDto {
  /** @example 1 */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  version: number;
}

export class WebhookTriggerSummary {
  /** @example "q3Xv0m2N8pL1cYt5RkWb9eZa" */
  slug: string;
  /** @example "http://localhost:3000/webhooks/workflows/q3Xv0m2N8pL1cYt5RkWb9eZa" */
  url: string;
  /** @example "standard-webhooks" */
  scheme: string;
  /** @example true */
  enabled: boolean;
}

export class NotifySecretResponse {
  /** @example "0193a8f2-7d2e-7f01-9b3c-4d5e6f708192" */
  endpointId: string;
  /** @example "https://alerts.example.com/hookrun" */
  url: string;
  /** Its Standard Webhooks signing secret. @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" */
  secret: string;
}

export class WorkflowResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  id: string;
  /** @example "Score new deals" */
  name: string;
  /** @example null */
  description: string | null;
  /** @example true */
  enabled: boolean;
  /** @example 1 */
  version: number;
  /** @example {"steps":[{"id":"score","type":"transform","expression":"$count(input.deals)"}],"output":"steps.score.output"} */
  definition: Record<string, unknown>;
  /**
   * Days its finished runs are kept (0: forever); `null` follows RUN_RETENTION_DAYS.
   * @example 90
   */
  runRetentionDays: number | null;
  /** `null` until a webhook trigger is created. */
  webhookTrigger: WebhookTriggerSummary | null;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  updatedAt: string;
  /**
   * Only in the answer to the save that created them: the signing secret of each notify endpoint that its
   * `notify` added, shown this once (rotate one to see a new one).
   */
  notifySecrets?: NotifySecretResponse[];
}

export class WorkflowVersionResponse {
  /** @example 2 */
  version: number;
  /** @example {"steps":[{"id":"score","type":"transform","expression":"$count(input.deals)"}]} */
  definition: Record<string, unknown>;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
}

export function webhookUrl(publicBaseUrl: string, slug: string): string {
  return `${publicBaseUrl}/webhooks/workflows/${slug}`;
}

export function toWorkflowResponse(
  entity: Workflow,
  trigger: WorkflowTriggerSummary | null,
  publicBaseUrl: string,
): WorkflowResponse {
  return {
    id: entity.id,
    name: entity.name,
    description: entity.description,
    enabled: entity.enabled,
    version: entity.version,
    definition: entity.definition as unknown as Record<string, unknown>,
    runRetentionDays: entity.runRetentionDays,
    webhookTrigger: trigger
      ? {
          slug: trigger.slug,
          url: webhookUrl(publicBaseUrl, trigger.slug),
          scheme: trigger.scheme,
          enabled: trigger.enabled,
        }
      : null,
    createdAt: entity.createdAt.toISOString(),
    updatedAt: entity.updatedAt.toISOString(),
  };
}

export function toWorkflowVersionResponse(entity: WorkflowVersion): WorkflowVersionResponse {
  return {
    version: entity.version,
    definition: entity.definition as unknown as Record<string, unknown>,
    createdAt: entity.createdAt.toISOString(),
  };
}
