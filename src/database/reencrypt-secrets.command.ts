/** `npm run secrets:reencrypt`: every trigger and notify endpoint secret under the newest key, so that older keys can be removed. */
import { DataSource } from 'typeorm';

import { ConfigError, loadReencryptionConfig } from '../config/app.config.js';
import type { CipherKey } from '../config/keyring.parser.js';
import { NotifyEndpointsRepository } from '../modules/notifications/notify-endpoints.repository.js';
import { reencryptNotifySecrets } from '../modules/notifications/notify-secrets-reencryption.task.js';
import { SecretCipher } from '../modules/secrets/secret.cipher.js';
import { reencryptSecrets } from '../modules/secrets/secret-reencryption.task.js';
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
  const report = await reencryptSecrets(new TriggerSecretsRepository(dataSource), new SecretCipher(keyring));
  console.log(
    `Re-encrypted ${report.reencrypted} of ${report.scanned} trigger secrets under key "${keyring[0].id}"; ` +
      `${report.scanned - report.reencrypted - report.unreadable.length} already were; ` +
      `${report.unreadable.length} could not be read`,
  );
  const notify = await reencryptNotifySecrets(new NotifyEndpointsRepository(dataSource), new SecretCipher(keyring));
  console.log(
    `Re-encrypted ${notify.reencrypted} of ${notify.scanned} notify endpoint secrets; ` +
      `${notify.unreadable.length} could not be read`,
  );
  const unreadable = [...report.unreadable, ...notify.unreadable];
  if (unreadable.length > 0) {
    console.error(`Secrets no key in SECRETS_ENCRYPTION_KEY opens (ids): ${unreadable.join(', ')}`);
    process.exitCode = 1;
  }
} finally {
  await dataSource.destroy();
}
