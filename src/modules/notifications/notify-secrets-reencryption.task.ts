import type { SecretCipher } from '../secrets/secret.cipher.js';
import { reencryptRows, type ReencryptionReport } from '../secrets/secret-reencryption.task.js';
import type { NotifyEndpointsRepository } from './notify-endpoints.repository.js';

/** The notify endpoints' signing secrets, bound to the endpoint's id (`secrets:reencrypt`); safe to run again. */
export function reencryptNotifySecrets(
  repository: NotifyEndpointsRepository,
  cipher: SecretCipher,
  batchSize?: number,
): Promise<ReencryptionReport> {
  return reencryptRows<{ id: string; secret: string }>(
    async (after, limit, rewrite) => {
      const { lastId, ...counts } = await repository.rewriteSecretsBatch(after, limit, rewrite);
      return { last: lastId, ...counts };
    },
    (row) => ({ key: row.id, ciphertext: row.secret, associatedData: row.id }),
    cipher,
    batchSize,
  );
}
