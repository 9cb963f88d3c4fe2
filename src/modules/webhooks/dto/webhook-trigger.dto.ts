import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsObject, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

import { webhookUrl } from '../../workflows/dto/workflow.dto.js';
import type { SchemeOptions } from '../verification/webhook-scheme.interface.js';
import { WEBHOOK_SCHEME_NAMES, type WebhookSchemeName } from '../verification/webhook-scheme.registry.js';
import { MAX_FILTER_LENGTH } from '../trigger-filter.evaluator.js';
import type { WebhookTrigger } from '../webhook-trigger.entity.js';

export const DEFAULT_TOLERANCE_SECONDS = 300;

const FILTER_DESCRIPTION =
  'A JSONata expression over `{ body, headers }` (header names lower-case; `body` is the parsed JSON or the form ' +
  "fields): a verified delivery for which it is not truthy (JSONata's `$boolean`) starts no run and answers " +
  '`200 { data: { filtered: true } }`. At most 4096 characters; null: none.';

const OPTIONS_DESCRIPTION =
  'Settings of the `hmac-sha256` scheme (`signatureHeader`, `encoding` hex|base64, `prefix`, `idHeader`) and of ' +
  'the `token` scheme (`tokenHeader`, `prefix`, `idHeader`); the other schemes take none.';

export class CreateWebhookTriggerDto {
  /**
   * How senders sign their requests: `standard-webhooks` (default; Svix), `github`, `stripe`, `slack`,
   * `shopify`, `hmac-sha256` (a header of your choice) or `token` (a static secret in a header).
   * @example "standard-webhooks"
   */
  @IsOptional()
  @IsIn(WEBHOOK_SCHEME_NAMES)
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

  /**
   * The signing secret, when the sender makes its own: required for `github`, `stripe`, `slack` and
   * `shopify` (paste the provider's secret), optional otherwise (hookrun generates a `whsec_` secret).
   * For `standard-webhooks` a `whsec_` secret of 24 to 64 bytes, or the sender's `whpk_` ed25519 public key.
   * @example "It's a Secret to Everybody"
   */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  secret?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: OPTIONS_DESCRIPTION,
    example: { signatureHeader: 'x-signature', encoding: 'hex', prefix: 'sha256=', idHeader: 'x-delivery-id' },
  })
  @IsOptional()
  @IsObject()
  options?: Record<string, unknown>;

  /** Validated when saved: JSONata that does not compile answers `400 validation_failed` naming `filter`. */
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    maxLength: MAX_FILTER_LENGTH,
    description: FILTER_DESCRIPTION,
    example: 'headers."x-github-event" = "push" and body.ref = "refs/heads/main"',
  })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_FILTER_LENGTH)
  filter?: string | null;
}

/**
 * A change of `scheme` takes the new scheme's `options` (none given: none) and keeps the trigger's secrets
 * when they fit the new scheme; otherwise give `secret` with the change. A `secret` given here replaces
 * every secret of the trigger at once (rotate for a grace period instead).
 */
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

  /**
   * The new secret, when the sender makes its own (required for `github`, `stripe`, `slack` and `shopify`:
   * roll the secret at the provider, then paste it here); otherwise hookrun generates one.
   * @example "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
   */
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  secret?: string;
}

export class WebhookTriggerResponse {
  /** @example "q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  slug: string;
  /** @example "http://localhost:3000/webhooks/workflows/q3Xv0m2N8pL1cYt5RkWb9eZaQ1wE" */
  url: string;
  /** @example "standard-webhooks" */
  scheme: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: OPTIONS_DESCRIPTION, example: {} })
  options: SchemeOptions;
  /** @example true */
  enabled: boolean;
  /** @example 300 */
  toleranceSeconds: number;
  @ApiProperty({ type: String, nullable: true, description: FILTER_DESCRIPTION, example: null })
  filter: string | null;
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
  @ApiProperty({ type: 'object', additionalProperties: true, description: OPTIONS_DESCRIPTION, example: {} })
  options: SchemeOptions;
  /** @example true */
  enabled: boolean;
  /** @example 300 */
  toleranceSeconds: number;
  @ApiProperty({ type: String, nullable: true, description: FILTER_DESCRIPTION, example: null })
  filter: string | null;
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
    options: trigger.options,
    enabled: trigger.enabled,
    toleranceSeconds: trigger.toleranceSeconds,
    filter: trigger.filter,
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
    options: trigger.options,
    enabled: trigger.enabled,
    toleranceSeconds: trigger.toleranceSeconds,
    filter: trigger.filter,
    createdAt: trigger.createdAt.toISOString(),
  };
}
