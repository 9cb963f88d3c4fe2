import { SecretCipher, SecretDecryptionError } from './secret.cipher.js';
import { type StepSecret, stepSecretAssociatedData } from './step-secret.entity.js';
import type { StepSecretsRepository } from './step-secrets.repository.js';
import type { TriggerSecret } from './trigger-secret.entity.js';
import type { TriggerSecretsRepository } from './trigger-secrets.repository.js';

export interface ReencryptionReport {
  scanned: number;
  reencrypted: number;
  /** The rows no key in the ring opens, by their key (an id or a name). */
  unreadable: string[];
}

const REENCRYPTION_BATCH_SIZE = 500;

/** One batch of a table's encrypted rows, rewritten under the row locks of one transaction. */
export type RewriteBatch<Row> = (
  after: string | null,
  limit: number,
  rewrite: (row: Row) => string | null,
) => Promise<{ last: string | null; scanned: number; rewritten: number }>;

/** Where a row's token is, the associated data it is bound to (kept: the new token binds the same row), its key. */
export type Sealed<Row> = (row: Row) => { key: string; ciphertext: string; associatedData: string };

/**
 * Every row of a table under the newest key. Safe while hookrun serves (it reads through any key in the ring) and
 * to interrupt and run again.
 */
export async function reencryptRows<Row>(
  rewriteBatch: RewriteBatch<Row>,
  sealed: Sealed<Row>,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  const report: ReencryptionReport = { scanned: 0, reencrypted: 0, unreadable: [] };
  let after: string | null = null;
  for (;;) {
    const batch = await rewriteBatch(after, batchSize, (row) => {
      const { key, ciphertext, associatedData } = sealed(row);
      try {
        if (!cipher.needsReencryption(ciphertext)) return null;
        return cipher.encrypt(cipher.decrypt(ciphertext, associatedData), associatedData);
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        report.unreadable.push(key);
        return null;
      }
    });
    report.scanned += batch.scanned;
    report.reencrypted += batch.rewritten;
    if (batch.last === null || batch.scanned < batchSize) return report;
    after = batch.last;
  }
}

/** Trigger secrets, bound to their trigger's id; `unreadable` lists secret ids. */
export function reencryptSecrets(
  repository: TriggerSecretsRepository,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  return reencryptRows<TriggerSecret>(
    async (after, limit, rewrite) => {
      const { lastId, ...counts } = await repository.rewriteBatch(after, limit, rewrite);
      return { last: lastId, ...counts };
    },
    (row) => ({ key: row.id, ciphertext: row.ciphertext, associatedData: row.triggerId }),
    cipher,
    batchSize,
  );
}

/** Step secrets, bound to their name; `unreadable` lists names. */
export function reencryptStepSecrets(
  repository: StepSecretsRepository,
  cipher: SecretCipher,
  batchSize = REENCRYPTION_BATCH_SIZE,
): Promise<ReencryptionReport> {
  return reencryptRows<StepSecret>(
    async (after, limit, rewrite) => {
      const { lastName, ...counts } = await repository.rewriteBatch(after, limit, rewrite);
      return { last: lastName, ...counts };
    },
    (row) => ({ key: row.name, ciphertext: row.ciphertext, associatedData: stepSecretAssociatedData(row.name) }),
    cipher,
    batchSize,
  );
}
