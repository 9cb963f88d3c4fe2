import { createHash } from 'node:crypto';

import type { CipherKey } from './keyring.parser.js';

// SHA-256 so this file publishes nothing new; encryption keys are hashed as bytes so every spelling matches.
const PUBLISHED_ENCRYPTION_KEYS: ReadonlySet<string> = new Set([
  // The bytes 0..31: docker-compose.yml's former default, and test/support/env.ts.
  '630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd',
]);

const PUBLISHED_API_KEYS: ReadonlySet<string> = new Set([
  // docker-compose.yml's former default and the README's walk-through.
  '093bdc4255b7be665777cec0b54c975bd0a850756f6016bcc4bc14194fcf5dc6',
  // test/support/env.ts.
  '1002dd5b61156d6359b64dce1af10e74db38d46e3ae9e32fd2211e30f89e202d',
  // The Swagger example of a created key (src/modules/api-keys/dto/api-key.dto.ts).
  '2c60fcab562ed5433e0e8699f674a92f42499451cccb09ebf0a10e969fddd929',
]);

const sha256 = (value: Buffer | string): string => createHash('sha256').update(value).digest('hex');

export function publishedKeyProblems(keyring: readonly CipherKey[], bootstrapApiKey: string | null): string[] {
  const refused = (what: string, fix: string) =>
    `${what} is a key published in hookrun's repository, which NODE_ENV=production refuses: ${fix}`;
  const problems = keyring
    .map(({ key }, index) => ({ index, published: PUBLISHED_ENCRYPTION_KEYS.has(sha256(key)) }))
    .filter(({ published }) => published)
    .map(({ index }) =>
      refused(
        keyring.length > 1 ? `SECRETS_ENCRYPTION_KEY entry ${index + 1}` : 'SECRETS_ENCRYPTION_KEY',
        'generate one with "openssl rand -base64 32" (docs/operations.md: Rotating the encryption key)',
      ),
    );
  if (bootstrapApiKey !== null && PUBLISHED_API_KEYS.has(sha256(bootstrapApiKey))) {
    problems.push(refused('BOOTSTRAP_API_KEY', 'generate one (docs/operations.md: Production) or leave it unset'));
  }
  return problems;
}
