import { SecretCipher, SecretDecryptionError } from '../secrets/secret.cipher.js';
import type { ReencryptionReport } from '../secrets/secret-reencryption.task.js';
import type { NotifyEndpointsRepository } from './notify-endpoints.repository.js';

const REENCRYPTION_BATCH_SIZE = 500;

/** The notify endpoints' signing secrets under the newest key (`secrets:reencrypt`); safe to run again. */
export async function reencryptNotifySecrets(
  repository: NotifyEndpointsRepository,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { scanned: 0, reencrypted: 0, unreadable: [] };
  let afterId: string | null = null;
  for (;;) {
    const batch = await repository.rewriteSecretsBatch(afterId, batchSize, (row) => {
      try {
        if (!cipher.needsReencryption(row.secret)) return null;
        // The endpoint id stays the associated data.
        return cipher.encrypt(cipher.decrypt(row.secret, row.id), row.id);
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
