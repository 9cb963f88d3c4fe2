import { createDecipheriv, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { parseKeyring, type CipherKey } from '../../config/keyring.parser.js';
import { generateEncryptionKey, SecretCipher, SecretDecryptionError } from './secret.cipher.js';

const PLAINTEXT = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const TRIGGER = '6f1c2a8e-3b1d-4d0f-9a57-2c4e7b9d1f00';
const OTHER_TRIGGER = '0b7d3e51-9c2f-4a8b-8e14-5d6f7a8b9c0d';

const cipherKey = (id: string): CipherKey => ({ id, key: randomBytes(32) });

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

function expectDecryptionError(action: () => unknown): SecretDecryptionError {
  const error = caught(action);
  expect(error).toBeInstanceOf(SecretDecryptionError);
  expect(error).toBeInstanceOf(Error);
  return error as SecretDecryptionError;
}

/** Rebuilds a token with one of its five parts changed. */
function withPart(token: string, index: number, change: (part: string) => string): string {
  const parts = token.split(':');
  parts[index] = change(parts[index]);
  return parts.join(':');
}

/** Flips one bit of a base64url part, keeping it canonical. */
function flipBit(part: string, byte = 0): string {
  const bytes = Buffer.from(part, 'base64url');
  bytes[byte] ^= 0x01;
  return bytes.toString('base64url');
}

describe('SecretCipher', () => {
  const current = cipherKey('k2');
  const cipher = new SecretCipher([current]);

  it('round-trips, including empty and non-ASCII plaintexts', () => {
    for (const text of [PLAINTEXT, '', 'ünïcødé 🔑', 'x'.repeat(10_000)]) {
      expect(cipher.decrypt(cipher.encrypt(text, TRIGGER), TRIGGER)).toBe(text);
    }
  });

  it('writes the documented v1:<keyId>:<iv>:<ciphertext>:<tag> format, readable with plain node:crypto', () => {
    const token = cipher.encrypt(PLAINTEXT, TRIGGER);
    expect(token).toMatch(/^v1:k2:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]+:[A-Za-z0-9_-]{22}$/);
    const [, , iv, ciphertext, tag] = token.split(':');
    expect(Buffer.from(iv, 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag, 'base64url')).toHaveLength(16);
    const decipher = createDecipheriv('aes-256-gcm', current.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(TRIGGER));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
    expect(plain.toString('utf8')).toBe(PLAINTEXT);
    expect(token).not.toContain(PLAINTEXT);
  });

  it('uses a fresh IV each time, so the same plaintext never gives the same token', () => {
    const tokens = Array.from({ length: 200 }, () => cipher.encrypt(PLAINTEXT, TRIGGER));
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(new Set(tokens.map((t) => t.split(':')[2])).size).toBe(tokens.length);
  });

  it('refuses a token under another associated data (copied to another trigger row)', () => {
    const token = cipher.encrypt(PLAINTEXT, TRIGGER);
    expectDecryptionError(() => cipher.decrypt(token, OTHER_TRIGGER));
    expectDecryptionError(() => cipher.decrypt(token, ''));
    expectDecryptionError(() => cipher.decrypt(token, `${TRIGGER} `));
  });

  it.each([
    ['iv', 2],
    ['ciphertext', 3],
    ['tag', 4],
  ])('refuses a token whose %s was tampered with', (_part, index) => {
    const token = cipher.encrypt(PLAINTEXT, TRIGGER);
    for (const byte of [0, 5, 11]) {
      expectDecryptionError(() =>
        cipher.decrypt(
          withPart(token, index, (p) => flipBit(p, byte)),
          TRIGGER,
        ),
      );
    }
  });

  it('refuses a truncated or extended ciphertext', () => {
    const token = cipher.encrypt(PLAINTEXT, TRIGGER);
    const shorter = withPart(token, 3, (p) => Buffer.from(p, 'base64url').subarray(1).toString('base64url'));
    const longer = withPart(token, 3, (p) =>
      Buffer.concat([Buffer.from(p, 'base64url'), Buffer.alloc(1)]).toString('base64url'),
    );
    expectDecryptionError(() => cipher.decrypt(shorter, TRIGGER));
    expectDecryptionError(() => cipher.decrypt(longer, TRIGGER));
  });

  it('refuses a token whose key id was swapped for another key in the ring', () => {
    const older = cipherKey('k1');
    const ring = new SecretCipher([current, older]);
    const token = ring.encrypt(PLAINTEXT, TRIGGER);
    expectDecryptionError(() =>
      ring.decrypt(
        withPart(token, 1, () => 'k1'),
        TRIGGER,
      ),
    );
  });

  it('refuses a token under a key id it does not have, naming only the id', () => {
    const stranger = new SecretCipher([cipherKey('k9')]);
    const error = expectDecryptionError(() => cipher.decrypt(stranger.encrypt(PLAINTEXT, TRIGGER), TRIGGER));
    expect(error.message).toContain('k9');
  });

  it('refuses a token made under another key with the same id', () => {
    const impostor = new SecretCipher([cipherKey('k2')]);
    expectDecryptionError(() => cipher.decrypt(impostor.encrypt(PLAINTEXT, TRIGGER), TRIGGER));
  });

  it.each([
    ['empty', ''],
    ['plaintext', PLAINTEXT],
    ['another version', (t: string) => withPart(t, 0, () => 'v2')],
    ['a missing part', (t: string) => t.split(':').slice(0, 4).join(':')],
    ['an extra part', (t: string) => `${t}:x`],
    [
      'an 11-byte iv',
      (t: string) => withPart(t, 2, (p) => Buffer.from(p, 'base64url').subarray(1).toString('base64url')),
    ],
    [
      'a 15-byte tag',
      (t: string) => withPart(t, 4, (p) => Buffer.from(p, 'base64url').subarray(1).toString('base64url')),
    ],
    ['padding', (t: string) => withPart(t, 4, (p) => `${p}==`)],
    ['standard base64 characters', (t: string) => withPart(t, 3, () => 'ab+/')],
    ['a non-canonical base64url part', (t: string) => withPart(t, 3, () => 'QR')],
    ['an invalid key id', (t: string) => withPart(t, 1, () => 'k 2')],
    ['surrounding whitespace', (t: string) => ` ${t}`],
  ])('refuses a malformed token (%s)', (_label, make) => {
    const token = typeof make === 'string' ? make : make(cipher.encrypt(PLAINTEXT, TRIGGER));
    expectDecryptionError(() => cipher.decrypt(token, TRIGGER));
  });

  it('refuses values that are not strings (a null column)', () => {
    expectDecryptionError(() => cipher.decrypt(null as unknown as string, TRIGGER));
  });

  it('decrypts with an older key still in the ring, and encrypts with the newest', () => {
    const older = cipherKey('k1');
    const before = new SecretCipher([older]);
    const oldToken = before.encrypt(PLAINTEXT, TRIGGER);

    const rotated = new SecretCipher([cipherKey('k2'), older]);
    expect(rotated.decrypt(oldToken, TRIGGER)).toBe(PLAINTEXT);
    const newToken = rotated.encrypt(PLAINTEXT, TRIGGER);
    expect(newToken.startsWith('v1:k2:')).toBe(true);
    expectDecryptionError(() => before.decrypt(newToken, TRIGGER));
  });

  it('tells which tokens need re-encryption under the newest key', () => {
    const older = cipherKey('k1');
    const oldToken = new SecretCipher([older]).encrypt(PLAINTEXT, TRIGGER);
    const removedToken = new SecretCipher([cipherKey('k0')]).encrypt(PLAINTEXT, TRIGGER);
    const rotated = new SecretCipher([cipherKey('k2'), older]);
    expect(rotated.needsReencryption(oldToken)).toBe(true);
    expect(rotated.needsReencryption(removedToken)).toBe(true);
    expect(rotated.needsReencryption(rotated.encrypt(PLAINTEXT, TRIGGER))).toBe(false);
    expectDecryptionError(() => rotated.needsReencryption('garbage'));
  });

  it('keeps a private copy of its keys', () => {
    const key = cipherKey('k1');
    const own = new SecretCipher([key]);
    const token = own.encrypt(PLAINTEXT, TRIGGER);
    key.key.fill(0);
    expect(own.decrypt(token, TRIGGER)).toBe(PLAINTEXT);
  });

  it.each([
    ['an empty keyring', []],
    ['a 16-byte key', [{ id: 'k1', key: randomBytes(16) }]],
    ['duplicate ids', [cipherKey('k1'), cipherKey('k1')]],
    ['an invalid id', [cipherKey('k:1')]],
  ])('refuses to be built with %s', (_label, keyring) => {
    expect(() => new SecretCipher(keyring)).toThrow(Error);
  });

  it('never puts the key, the plaintext or the associated data in its errors', () => {
    const token = cipher.encrypt(PLAINTEXT, TRIGGER);
    const errors = [
      caught(() => cipher.decrypt(token, OTHER_TRIGGER)),
      caught(() =>
        cipher.decrypt(
          withPart(token, 3, (p) => flipBit(p)),
          TRIGGER,
        ),
      ),
      caught(() =>
        cipher.decrypt(
          withPart(token, 0, () => 'v0'),
          TRIGGER,
        ),
      ),
      caught(() =>
        cipher.decrypt(
          withPart(token, 1, () => 'zz'),
          TRIGGER,
        ),
      ),
    ];
    for (const error of errors) {
      const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
      for (const needle of [
        PLAINTEXT,
        TRIGGER,
        OTHER_TRIGGER,
        current.key.toString('hex'),
        current.key.toString('base64url'),
        current.key.toString('base64'),
      ]) {
        expect(text).not.toContain(needle);
      }
    }
  });
});

describe('keys from parseKeyring', () => {
  const bytes = randomBytes(32);

  it('gives keys that work with SecretCipher, and generateEncryptionKey gives such a key', () => {
    const generated = generateEncryptionKey();
    expect(generated).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateEncryptionKey()).not.toBe(generated);
    const ring = parseKeyring(`new:${generated},old:${bytes.toString('hex')}`);
    const cipher = new SecretCipher(ring);
    const oldToken = new SecretCipher(parseKeyring(bytes.toString('hex'))).encrypt(PLAINTEXT, TRIGGER);
    expect(
      cipher.decrypt(
        withPart(oldToken, 1, () => 'old'),
        TRIGGER,
      ),
    ).toBe(PLAINTEXT);
    expect(cipher.encrypt(PLAINTEXT, TRIGGER).startsWith('v1:new:')).toBe(true);
  });
});
