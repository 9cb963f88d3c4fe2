import { randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { parseKeyring } from './keyring.parser.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function caught(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('parseKeyring', () => {
  const bytes = randomBytes(32);

  it.each([
    ['hex', bytes.toString('hex')],
    ['upper-case hex', bytes.toString('hex').toUpperCase()],
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['base64url with padding', `${bytes.toString('base64url')}=`],
    ['surrounding whitespace', `  ${bytes.toString('hex')}\n`],
  ])('reads a single key given as %s, with id k1', (_label, value) => {
    const ring = parseKeyring(value);
    expect(ring).toHaveLength(1);
    expect(ring[0].id).toBe('k1');
    expect(ring[0].key.equals(bytes)).toBe(true);
  });

  it('reads a list, newest first, in mixed encodings', () => {
    const [a, b, c] = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const ring = parseKeyring(
      `2024-06_b:${a.toString('base64url')}, k1:${b.toString('hex')} ,OLD:${c.toString('base64')}`,
    );
    expect(ring.map((k) => k.id)).toEqual(['2024-06_b', 'k1', 'OLD']);
    expect(ring[0].key.equals(a)).toBe(true);
    expect(ring[1].key.equals(b)).toBe(true);
    expect(ring[2].key.equals(c)).toBe(true);
  });

  it('reads a single key given with an id', () => {
    expect(parseKeyring(`main:${bytes.toString('hex')}`)).toEqual([{ id: 'main', key: bytes }]);
  });

  const hex = bytes.toString('hex');
  const b64 = bytes.toString('base64');
  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['31 bytes in hex', randomBytes(31).toString('hex')],
    ['33 bytes in hex', randomBytes(33).toString('hex')],
    ['31 bytes in base64', randomBytes(31).toString('base64')],
    ['33 bytes in base64', randomBytes(33).toString('base64')],
    ['a passphrase', 'correct horse battery staple, again'],
    ['hex with a non-hex character', `${hex.slice(0, 63)}g`],
    ['mixed base64 alphabets', `${'+_'.repeat(21)}A`],
    [
      'non-canonical base64 (unused bits set)',
      `${b64.slice(0, 42)}${ALPHABET.charAt(ALPHABET.indexOf(b64.charAt(42)) ^ 1)}=`,
    ],
    ['a list entry without id', `k1:${hex},${hex}`],
    ['a trailing comma', `k1:${hex},`],
    ['an empty id', `:${hex}`],
    ['an id too long', `${'a'.repeat(33)}:${hex}`],
    ['an id with a dot', `k.1:${hex}`],
    ['a duplicate id', `k1:${hex},k1:${randomBytes(32).toString('hex')}`],
    ['an empty key', 'k1:'],
    ['two colons', `k1:k2:${hex}`],
  ])('rejects %s', (_label, value) => {
    expect(() => parseKeyring(value)).toThrow(Error);
  });

  it('never echoes key material in its errors', () => {
    const short = randomBytes(31).toString('hex');
    for (const value of [short, `k1:${short}`, `${hex}:${hex}`, `${hex.slice(0, 20)}:x`, `k1:${hex},${b64}`]) {
      const error = caught(() => parseKeyring(value)) as Error;
      expect(error.message).not.toContain(short);
      expect(error.message).not.toContain(hex.slice(0, 20));
      expect(error.message).not.toContain(b64.slice(0, 20));
    }
  });
});
