import { IsNotEmpty, IsString, MaxLength } from 'class-validator';

import type { ApiKey } from '../api-key.entity.js';

export class CreateApiKeyDto {
  /**
   * What the key is for.
   * @example "ci-pipeline"
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;
}

export class ApiKeyResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  id: string;
  /** @example "ci-pipeline" */
  name: string;
  /**
   * The first characters of the key, to tell keys apart.
   * @example "hr_Xk3v9Qa"
   */
  prefix: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
  /** @example null */
  lastUsedAt: string | null;
}

export class CreatedApiKeyResponse {
  /** @example "0193a8f2-5b7e-7c3d-9a61-2f4e8d0c1b2a" */
  id: string;
  /** @example "ci-pipeline" */
  name: string;
  /**
   * The key itself. Shown only in this response: store it now.
   * @example "hr_Xk3v9Qa1b2c3d4e5f6g7h8i9j0kLmNoPqRsTuVwXyZ012"
   */
  key: string;
  /** @example "hr_Xk3v9Qa" */
  prefix: string;
  /** @example "2026-11-27T10:00:00.000Z" */
  createdAt: string;
}

export function toApiKeyResponse(entity: ApiKey): ApiKeyResponse {
  return {
    id: entity.id,
    name: entity.name,
    prefix: entity.prefix,
    createdAt: entity.createdAt.toISOString(),
    lastUsedAt: entity.lastUsedAt?.toISOString() ?? null,
  };
}

export function toCreatedApiKeyResponse(entity: ApiKey, key: string): CreatedApiKeyResponse {
  return { id: entity.id, name: entity.name, key, prefix: entity.prefix, createdAt: entity.createdAt.toISOString() };
}
