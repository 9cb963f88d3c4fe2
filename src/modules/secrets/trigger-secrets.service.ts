import { Injectable } from '@nestjs/common';
import { newId } from '../../common/ids.util.js';

import { SecretCipher } from './secret.cipher.js';
import { generateWebhookSecret } from './secret.generator.js';
import type { TriggerSecret } from './trigger-secret.entity.js';
import { TriggerSecretsRepository } from './trigger-secrets.repository.js';

export const DEFAULT_GRACE_PERIOD_SECONDS = 86_400;

export interface OpenSecret {
  secret: string;
  expiresAt: Date | null;
}

/** Trigger secrets: generated here, encrypted at rest, decrypted only to verify, rotated with a grace period. */
@Injectable()
export class TriggerSecretsService {
  constructor(
    private readonly repository: TriggerSecretsRepository,
    private readonly cipher: SecretCipher,
  ) {}

  generate(triggerId: string, now: Date): { row: TriggerSecret; secret: string } {
    const secret = generateWebhookSecret();
    return { secret, row: this.seal(triggerId, secret, now) };
  }

  sealGiven(triggerId: string, secret: string, now: Date): { row: TriggerSecret; secret: string } {
    return { secret, row: this.seal(triggerId, secret, now) };
  }

  async openUnexpired(triggerId: string, now: Date): Promise<OpenSecret[]> {
    const rows = await this.repository.findUnexpired(triggerId, now);
    return this.open(rows);
  }

  open(rows: TriggerSecret[]): OpenSecret[] {
    return rows.map((row) => ({
      secret: this.cipher.decrypt(row.ciphertext, row.triggerId),
      expiresAt: row.expiresAt,
    }));
  }

  /** Makes `given` (or, without it, a generated secret) the current one; the others verify for the grace period. */
  async rotate(
    triggerId: string,
    gracePeriodSeconds: number,
    now: Date,
    given?: string,
  ): Promise<{ secret: string; previousSecretExpiresAt: Date }> {
    const { row, secret } = given === undefined ? this.generate(triggerId, now) : this.sealGiven(triggerId, given, now);
    const previousSecretExpiresAt = new Date(now.getTime() + gracePeriodSeconds * 1000);
    await this.repository.rotate(row, previousSecretExpiresAt, now);
    return { secret, previousSecretExpiresAt };
  }

  private seal(triggerId: string, secret: string, now: Date): TriggerSecret {
    return {
      id: newId(),
      triggerId,
      ciphertext: this.cipher.encrypt(secret, triggerId),
      createdAt: now,
      expiresAt: null,
    };
  }
}
