import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

import { webhookUrl } from '../../workflows/dto/workflow.dto.js';
import type { WebhookTrigger } from '../webhook-trigger.entity.js';

export const WEBHOOK_SCHEMES = ['standard-webhooks'] as const;
export type WebhookSchemeName = (typeof WEBHOOK_SCHEMES)[number];
export const DEFAULT_TOLERANCE_SECONDS = 300;

export class CreateWebhookTriggerDto {
  /**
   * How senders sign their requests.
   * @example "standard-webhooks"
   */
  @IsOptional()
  @IsIn(WEBHOOK_SCHEMES)
  scheme?: WebhookSchemeName;

  /**
   * How far a request's timestamp may be from the server's clock, either way, in seconds (default 300).
   * @example 300
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  toleranceSeconds?: number;
}

export class UpdateWebhookTriggerDto extends CreateWebhookTriggerDto {
  /** A disabled trigger answers `404 trigger_not_found`. */
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class RotateSecretDto {
  /**
   * How long the old secret keeps verifying, in seconds: default 86400, `0` revokes it at once, at most 604800.
   * @example 86400
   */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(604_800)
  gracePeriodSeconds?: number;
}

export class WebhookTriggerResponse {
  /** @example "q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  slug: string;
  /** @example "http://localhost:3000/webhooks/workflows/q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  url: string;
  /** @example "standard-webhooks" */
  scheme: string;
  /** @example true */
  enabled: boolean;
  /** @example 300 */
  toleranceSeconds: number;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  updatedAt: string;
}

export class CreatedWebhookTriggerResponse {
  /** @example "q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  slug: string;
  /** @example "http://localhost:3000/webhooks/workflows/q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  url: string;
  /**
   * The signing secret. Shown only here and in a rotation's response: store it now.
   * @example "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
   */
  secret: string;
  /** @example "standard-webhooks" */
  scheme: string;
  /** @example true */
  enabled: boolean;
  /** @example 300 */
  toleranceSeconds: number;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
}

export class RotatedSecretResponse {
  /**
   * The new signing secret, shown only here.
   * @example "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
   */
  secret: string;
  /**
   * Until when the previous secrets still verify.
   * @example "2026-11-28T10:00:00.000Z"
   */
  previousSecretExpiresAt: string;
}

export function toWebhookTriggerResponse(trigger: WebhookTrigger, publicBaseUrl: string): WebhookTriggerResponse {
  return {
    slug: trigger.slug,
    url: webhookUrl(publicBaseUrl, trigger.slug),
    scheme: trigger.scheme,
    enabled: trigger.enabled,
    toleranceSeconds: trigger.toleranceSeconds,
    createdAt: trigger.createdAt.toISOString(),
    updatedAt: trigger.updatedAt.toISOString(),
  };
}

export function toCreatedWebhookTriggerResponse(
  trigger: WebhookTrigger,
  secret: string,
  publicBaseUrl: string,
): CreatedWebhookTriggerResponse {
  return {
    slug: trigger.slug,
    url: webhookUrl(publicBaseUrl, trigger.slug),
    secret,
    scheme: trigger.scheme,
    enabled: trigger.enabled,
    toleranceSeconds: trigger.toleranceSeconds,
    createdAt: trigger.createdAt.toISOString(),
  };
}
