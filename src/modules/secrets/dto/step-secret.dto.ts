import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

import type { StepSecretSummary } from '../step-secrets.repository.js';

/** Longer values are refused: a token, a key or a password fits many times over. */
export const MAX_STEP_SECRET_VALUE_LENGTH = 8192;

export class PutStepSecretDto {
  /**
   * The value, at most 8192 characters. Written, never read back: no response shows it.
   * @example "sk_live_51HxQ2eKx8v3Yq"
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(MAX_STEP_SECRET_VALUE_LENGTH)
  value: string;
}

export class SecretUserResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  id: string;
  /** @example "Sync deals to the CRM" */
  name: string;
}

export class StepSecretResponse {
  /**
   * Referenced in http steps as `{{ secrets.NAME }}` (url, header values) or `$secret("NAME")` (body).
   * @example "CRM_TOKEN"
   */
  name: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /**
   * When the value was last replaced (a PUT of an existing name).
   * @example "2026-11-28T09:30:00.000Z"
   */
  updatedAt: string;
  /** The workflows whose current definition uses this secret. */
  usedBy: SecretUserResponse[];
}

export function toStepSecretResponse(secret: StepSecretSummary, usedBy: SecretUserResponse[]): StepSecretResponse {
  return {
    name: secret.name,
    createdAt: secret.createdAt.toISOString(),
    updatedAt: secret.updatedAt.toISOString(),
    usedBy,
  };
}
