#!/usr/bin/env node
// Makes only the missing keys so that no key is ever written in the repository; a key set in the environment wins.
import { parseArgs } from 'node:util';

import { loadKeysFromEnvironment } from '../config/app.config.js';
import { ensureKeyFiles, readStoredKey, type KeyName } from '../local/key-files.store.js';
import { LocalSecretsError } from '../local/local-secrets.store.js';

const USAGE = 'usage: node dist/cli/keys.command.js <dir> [--print-api-key]';

function main(): void {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'print-api-key': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const [dir] = positionals;
  const fromEnvironment: Partial<Record<KeyName, string>> = loadKeysFromEnvironment(process.env);

  if (values['print-api-key']) {
    const apiKey = fromEnvironment.bootstrapApiKey ?? readStoredKey(dir, 'bootstrapApiKey');
    if (!apiKey) throw new UsageError(`No API key in ${dir} yet: run this command without --print-api-key first`);
    process.stdout.write(`${apiKey}\n`);
    return;
  }

  const names = (['secretsEncryptionKey', 'bootstrapApiKey'] as const).filter((name) => !fromEnvironment[name]);
  const keys = ensureKeyFiles(dir, names);
  const lines: string[] = [];
  if (fromEnvironment.secretsEncryptionKey) lines.push('SECRETS_ENCRYPTION_KEY is set: hookrun uses it');
  else if (keys.secretsEncryptionKey?.created) {
    lines.push(
      `Made an encryption key in ${keys.secretsEncryptionKey.path}: keep a copy, it decrypts the stored secrets`,
    );
  }
  if (fromEnvironment.bootstrapApiKey) lines.push('BOOTSTRAP_API_KEY is set: hookrun uses it');
  else if (keys.bootstrapApiKey?.created) {
    lines.push(
      `Made an API key, kept in ${keys.bootstrapApiKey.path} (print it again with --print-api-key):`,
      '',
      `    ${keys.bootstrapApiKey.value}`,
      '',
    );
  }
  if (names.some((name) => keys[name]?.created === false)) {
    lines.push(`Using the keys already in ${dir} (print the API key with --print-api-key)`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

class UsageError extends Error {}

try {
  main();
} catch (error) {
  // A problem the user can fix is one line; anything else keeps its stack.
  const known = error instanceof UsageError || error instanceof LocalSecretsError || isArgumentError(error);
  console.error(known ? `hookrun keys: ${(error as Error).message}` : error);
  process.exit(1);
}

function isArgumentError(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code?.startsWith('ERR_PARSE_ARGS') ?? false;
}
