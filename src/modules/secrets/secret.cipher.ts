import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

import { decodeCanonical, KEY_BYTES, KEY_ID, type CipherKey } from '../../config/keyring.parser.js';

/** Says why, never what. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

// The trigger id is authenticated associated data, not stored: a token copied to another row fails.
export class SecretCipher {
  private readonly newest: CipherKey;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(keyring: CipherKey[]) {
    if (keyring.length === 0) {
      throw new Error('The secrets keyring is empty');
    }
    const keys = new Map<string, Buffer>();
    for (const { id, key } of keyring) {
      if (!KEY_ID.test(id) || keys.has(id) || key.length !== KEY_BYTES) {
        throw new Error(`The secrets keyring needs unique ids and ${KEY_BYTES}-byte keys`);
      }
      // A private copy: the caller's buffer may be reused or zeroed later.
      keys.set(id, Buffer.from(key));
    }
    this.keys = keys;
    this.newest = { id: keyring[0].id, key: keys.get(keyring[0].id) as Buffer };
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.newest.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, this.newest.id, iv, ciphertext, tag]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join(':');
  }

  decrypt(token: string, associatedData: string): string {
    const { keyId, iv, ciphertext, tag } = parseToken(token);
    const key = this.keys.get(keyId);
    if (key === undefined) {
      throw new SecretDecryptionError(`Encrypted secret uses key id "${keyId}", which is not in the keyring`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      // Node's message adds nothing and the cause is deliberately indistinguishable.
      throw new SecretDecryptionError(
        'Encrypted secret failed authentication: tampered, or stored for another record, or another key',
      );
    }
  }

  needsReencryption(token: string): boolean {
    return parseToken(token).keyId !== this.newest.id;
  }
}

export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const TOKEN = /^v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]*):([A-Za-z0-9_-]{22})$/;

function parseToken(token: string): { keyId: string; iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const match = typeof token === 'string' ? TOKEN.exec(token) : null;
  const parts = match && [match[2], match[3], match[4]].map(decodeCanonical);
  if (match === null || parts === null || parts.some((part) => part === null)) {
    throw new SecretDecryptionError('Encrypted secret is not in the v1:<keyId>:<iv>:<ciphertext>:<tag> format');
  }
  const [iv, ciphertext, tag] = parts as Buffer[];
  return { keyId: match[1], iv, ciphertext, tag };
}
