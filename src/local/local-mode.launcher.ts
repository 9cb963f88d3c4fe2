import { join, resolve } from 'node:path';

import { ConfigError } from '../config/app.config.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.server.js';
import { loadOrCreateLocalSecrets } from './local-secrets.store.js';

const DEFAULT_EMBEDDED_POSTGRES_PORT = 54329;

type Env = Record<string, string | undefined>;

export interface LocalMode {
  env: Env;
  dataDir: string;
  generatedKeys: boolean;
  apiKeySource: 'environment' | 'data directory';
  stop(): Promise<void>;
}

/** An embedded PostgreSQL and (outside production) kept keys, under `./.data` where the user ran the command. */
export async function startLocalMode(env: Env, log: (line: string) => void): Promise<LocalMode> {
  const production = env.NODE_ENV === 'production';
  const missing = ['SECRETS_ENCRYPTION_KEY', 'BOOTSTRAP_API_KEY'].filter((name) => !env[name]?.trim());
  if (production && missing.length > 0) {
    throw new ConfigError(
      `NODE_ENV=production needs ${missing.join(' and ')}: hookrun generates keys only for local use`,
    );
  }
  const dataDir = resolve(env.HOOKRUN_DATA_DIR?.trim() || join(env.INIT_CWD?.trim() || process.cwd(), '.data'));
  const filled: Env = { ...env };
  let generatedKeys = false;
  if (missing.length > 0) {
    const secrets = loadOrCreateLocalSecrets(join(dataDir, 'local'));
    generatedKeys = secrets.created;
    filled.SECRETS_ENCRYPTION_KEY ||= secrets.secretsEncryptionKey;
    filled.BOOTSTRAP_API_KEY ||= secrets.bootstrapApiKey;
  }
  const port = env.EMBEDDED_POSTGRES_PORT?.trim() ? Number(env.EMBEDDED_POSTGRES_PORT) : DEFAULT_EMBEDDED_POSTGRES_PORT;
  const database: EmbeddedPostgres = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), port, log });
  filled.DATABASE_URL = database.databaseUrl;
  return {
    env: filled,
    dataDir,
    generatedKeys,
    apiKeySource: missing.includes('BOOTSTRAP_API_KEY') ? 'data directory' : 'environment',
    stop: () => database.stop(),
  };
}
