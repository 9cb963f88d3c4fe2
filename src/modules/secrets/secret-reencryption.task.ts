import { SecretCipher, SecretDecryptionError } from './secret.cipher.js';
import { stepSecretAssociatedData } from './step-secret.entity.js';
import type { StepSecretsRepository } from './step-secrets.repository.js';
import type { TriggerSecretsRepository } from './trigger-secrets.repository.js';

export interface ReencryptionReport {
  scanned: number;
  reencrypted: number;
  unreadable: string[];
}

const REENCRYPTION_BATCH_SIZE = 500;

/** Safe while hookrun serves (it reads through any key in the ring) and to interrupt and run again. */
export async function reencryptSecrets(
  repository: TriggerSecretsRepository,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { scanned: 0, reencrypted: 0, unreadable: [] };
  let afterId: string | null = null;
  for (;;) {
    const batch = await repository.rewriteBatch(afterId, batchSize, (row) => {
      try {
        if (!cipher.needsReencryption(row.ciphertext)) return null;
        // The trigger id stays the associated data: the new token is bound to the same row as the old.
        return cipher.encrypt(cipher.decrypt(row.ciphertext, row.triggerId), row.triggerId);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        report.unreadable.push(row.id);
        return null;
      }
    });
    report.scanned += batch.scanned;
    report.reencrypted += batch.rewritten;
    if (batch.lastId === null || batch.scanned < batchSize) return report;
    afterId = batch.lastId;
  }
}

/** The same for step secrets; `unreadable` lists names. */
export async function reencryptStepSecrets(
  repository: StepSecretsRepository,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { scanned: 0, reencrypted: 0, unreadable: [] };
  let afterName: string | null = null;
  for (;;) {
    const batch = await repository.rewriteBatch(afterName, batchSize, (row) => {
      const associatedData = stepSecretAssociatedData(row.name);
      try {
        if (!cipher.needsReencryption(row.ciphertext)) return null;
        return cipher.encrypt(cipher.decrypt(row.ciphertext, associatedData), associatedData);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        report.unreadable.push(row.name);
        return null;
      }
    });
    report.scanned += batch.scanned;
    report.reencrypted += batch.rewritten;
    if (batch.lastName === null || batch.scanned < batchSize) return report;
    afterName = batch.lastName;
  }
}
