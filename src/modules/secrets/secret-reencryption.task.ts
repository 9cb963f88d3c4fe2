import { SecretCipher, SecretDecryptionError } from './secret.cipher.js';
import type { TriggerSecretsRepository } from './trigger-secrets.repository.js';

export interface ReencryptionReport {
  /** Secrets looked at. */
  scanned: number;
  /** Secrets that were under an older key and are now under the newest. */
  reencrypted: number;
  /** Ids of secrets that no key in the ring opens (an id only: nothing else about them is printed). */
  unreadable: string[];
}

export const REENCRYPTION_BATCH_SIZE = 500;

/**
 * Rewrites every trigger secret that is not under the keyring's newest key, batch by batch, each batch
 * in a transaction of its own: safe to run while hookrun serves (it reads through any key in the ring),
 * safe to interrupt and run again (rows already under the newest key are left alone).
 */
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
