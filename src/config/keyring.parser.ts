export interface CipherKey {
  id: string;
  key: Buffer;
}

export const KEY_BYTES = 32;
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const DEFAULT_KEY_ID = 'k1';
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64URL_KEY = /^[A-Za-z0-9_-]{43}=?$/;

/** SECRETS_ENCRYPTION_KEY: one key, or `id:key,id2:key2` with the newest (encrypting) key first. */
export function parseKeyring(value: string): CipherKey[] {
  const trimmed = value.trim();
  if (trimmed === '') {
    throw new Error('SECRETS_ENCRYPTION_KEY is empty; generate a key with generateEncryptionKey()');
  }
  if (!trimmed.includes(':') && !trimmed.includes(',')) {
    return [{ id: DEFAULT_KEY_ID, key: decodeKey(trimmed, 'SECRETS_ENCRYPTION_KEY') }];
  }

  const keyring: CipherKey[] = [];
  trimmed.split(',').forEach((rawEntry, index) => {
    const where = `SECRETS_ENCRYPTION_KEY entry ${index + 1}`;
    const entry = rawEntry.trim();
    const colon = entry.indexOf(':');
    if (colon === -1) {
      throw new Error(`${where} must be "id:key" when several keys are listed`);
    }
    const id = entry.slice(0, colon);
    // Errors name the entry by position only: a mangled value can put key material where the id goes.
    if (!KEY_ID.test(id)) {
      throw new Error(`${where} has an invalid id: use 1 to 32 characters from A-Z a-z 0-9 _ -`);
    }
    if (keyring.some((existing) => existing.id === id)) {
      throw new Error(`${where} repeats the id of an earlier entry`);
    }
    keyring.push({ id, key: decodeKey(entry.slice(colon + 1), where) });
  });
  return keyring;
}

/** base64url decoding that refuses a second spelling of the same bytes (non-zero trailing bits). */
export function decodeCanonical(unpadded: string): Buffer | null {
  const decoded = Buffer.from(unpadded, 'base64url');
  const standard = decoded.toString('base64').replace(/=+$/, '');
  return decoded.toString('base64url') === unpadded || standard === unpadded ? decoded : null;
}

function decodeKey(text: string, where: string): Buffer {
  let key: Buffer | null = null;
  if (HEX_KEY.test(text)) {
    key = Buffer.from(text, 'hex');
  } else if (BASE64_KEY.test(text) || BASE64URL_KEY.test(text)) {
    key = decodeCanonical(text.replace(/=$/, ''));
  }
  if (key === null || key.length !== KEY_BYTES) {
    throw new Error(
      `${where} must be ${KEY_BYTES} bytes as 64 hex characters or base64/base64url (43 characters, or 44 with "=")`,
    );
  }
  return key;
}
