import { Injectable } from '@nestjs/common';

import { ConflictError, NotFoundError, ValidationError } from '../../common/domain.error.js';
import type { Page } from '../../common/pagination.util.js';
import { SECRET_NAME_PATTERN, StepFailure, type StepSecretSource } from '../../engine/index.js';
import { WorkflowsService } from '../workflows/workflows.service.js';
import { SecretCipher, SecretDecryptionError } from './secret.cipher.js';
import { toStepSecretResponse, type StepSecretResponse } from './dto/step-secret.dto.js';
import { stepSecretAssociatedData } from './step-secret.entity.js';
import { StepSecretsRepository } from './step-secrets.repository.js';

/**
 * Step secrets: encrypted at rest like trigger secrets, decrypted only for the http step that uses them, read from
 * PostgreSQL when that step starts: a PUT applies to the next step in every process, with no cache to invalidate.
 */
@Injectable()
export class StepSecretsService implements StepSecretSource {
  constructor(
    private readonly repository: StepSecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly workflows: WorkflowsService,
  ) {}

  async put(name: string, value: string): Promise<{ secret: StepSecretResponse; created: boolean }> {
    if (!SECRET_NAME_PATTERN.test(name)) {
      const message = 'name must be an upper-case letter, then up to 63 upper-case letters, digits or "_"';
      throw new ValidationError(`name: ${message}`, [{ field: 'name', message }]);
    }
    const now = new Date();
    const { secret, created } = await this.repository.upsert({
      name,
      ciphertext: this.cipher.encrypt(value, stepSecretAssociatedData(name)),
      createdAt: now,
      updatedAt: now,
    });
    const users = await this.workflows.usersOfSecrets([name]);
    return { secret: toStepSecretResponse(secret, users.get(name) ?? []), created };
  }

  async get(name: string): Promise<StepSecretResponse> {
    const secret = SECRET_NAME_PATTERN.test(name) ? await this.repository.findSummary(name) : null;
    if (!secret) throw notFound(name);
    const users = await this.workflows.usersOfSecrets([name]);
    return toStepSecretResponse(secret, users.get(name) ?? []);
  }

  async list(limit: number, cursor?: string): Promise<Page<StepSecretResponse>> {
    const rows = await this.repository.list(limit, decodeNameCursor(cursor));
    const more = rows.length > limit;
    const items = more ? rows.slice(0, limit) : rows;
    const users = await this.workflows.usersOfSecrets(items.map((row) => row.name));
    return {
      data: items.map((row) => toStepSecretResponse(row, users.get(row.name) ?? [])),
      nextCursor: more ? Buffer.from(items[items.length - 1].name, 'utf8').toString('base64url') : null,
    };
  }

  /** Refused while a workflow's current definition uses it: its next run would fail at that step. */
  async delete(name: string): Promise<void> {
    if (!SECRET_NAME_PATTERN.test(name) || !(await this.repository.findSummary(name))) throw notFound(name);
    const users = (await this.workflows.usersOfSecrets([name])).get(name) ?? [];
    if (users.length > 0) {
      const named = users.map((w) => `"${w.name}" (${w.id})`).join(', ');
      throw new ConflictError(
        'secret_in_use',
        `Secret ${name} is used by workflow ${named}: remove it from their definitions first`,
      );
    }
    if (!(await this.repository.delete(name))) throw notFound(name);
  }

  /** For http steps: the current values, decrypted; a secret no key in the ring opens fails the step. */
  async resolve(names: readonly string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    for (const row of await this.repository.findByNames(names)) {
      try {
        values.set(row.name, this.cipher.decrypt(row.ciphertext, stepSecretAssociatedData(row.name)));
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        throw new StepFailure(
          'secret_unreadable',
          `the secret "${row.name}" cannot be decrypted with SECRETS_ENCRYPTION_KEY: ${error.message}`,
        );
      }
    }
    return values;
  }
}

function notFound(name: string): NotFoundError {
  return new NotFoundError('secret', SECRET_NAME_PATTERN.test(name) ? name : undefined);
}

function decodeNameCursor(cursor: string | undefined): string | null {
  if (cursor === undefined || cursor === '') return null;
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new ValidationError('cursor: not a cursor returned by this API', [
      { field: 'cursor', message: 'not a cursor returned by this API' },
    ]);
  }
  return name;
}
