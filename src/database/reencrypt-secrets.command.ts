/** `npm run secrets:reencrypt`: every trigger, step and notify endpoint secret under the newest key, so that older keys can be removed. */
import { DataSource } from 'typeorm';

import { ConfigError, loadReencryptionConfig } from '../config/app.config.js';
import type { CipherKey } from '../config/keyring.parser.js';
import { NotifyEndpointsRepository } from '../modules/notifications/notify-endpoints.repository.js';
import { reencryptNotifySecrets } from '../modules/notifications/notify-secrets-reencryption.task.js';
import { SecretCipher } from '../modules/secrets/secret.cipher.js';
import { reencryptSecrets, reencryptStepSecrets } from '../modules/secrets/secret-reencryption.task.js';
import { StepSecretsRepository } from '../modules/secrets/step-secrets.repository.js';
import { TriggerSecretsRepository } from '../modules/secrets/trigger-secrets.repository.js';
import { dataSourceOptions } from './data-source.config.js';

let settings: { databaseUrl: string; keyring: CipherKey[] };
try {
  settings = loadReencryptionConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const { databaseUrl, keyring } = settings;

const dataSource = new DataSource(dataSourceOptions(databaseUrl, 2));
await dataSource.initialize();
try {
  const cipher = new SecretCipher(keyring);
  const triggers = await reencryptSecrets(new TriggerSecretsRepository(dataSource), cipher);
  const steps = await reencryptStepSecrets(new StepSecretsRepository(dataSource), cipher);
  const notify = await reencryptNotifySecrets(new NotifyEndpointsRepository(dataSource), cipher);
  for (const [report, kind, ids] of [
    [triggers, 'trigger secrets', 'ids'],
    [steps, 'step secrets', 'names'],
    [notify, 'notify endpoint secrets', 'ids'],
  ] as const) {
    console.log(
      `Re-encrypted ${report.reencrypted} of ${report.scanned} ${kind} under key "${keyring[0].id}"; ` +
        `${report.scanned - report.reencrypted - report.unreadable.length} already were; ` +
        `${report.unreadable.length} could not be read`,
    );
    if (report.unreadable.length > 0) {
      console.error(`Secrets no key in SECRETS_ENCRYPTION_KEY opens (${ids}): ${report.unreadable.join(', ')}`);
      process.exitCode = 1;
    }
  }
} finally {
  await dataSource.destroy();
}
