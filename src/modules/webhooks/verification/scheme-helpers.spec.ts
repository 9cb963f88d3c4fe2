import { createHash, randomBytes } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { AuthenticationError } from '../../../common/domain.error.js';
import {
  checkTimestamp,
  contentHashId,
  decodeHex,
  decodeStrictBase64,
  jsonStringField,
  readOptions,
} from './scheme-helpers.js';

describe('decodeHex', () => {
  it('decodes exactly the requested length, in either case', () => {
    const bytes = randomBytes(32);
    expect(decodeHex(bytes.toString('hex'), 32)?.equals(bytes)).toBe(true);
    expect(decodeHex(bytes.toString('hex').toUpperCase(), 32)?.equals(bytes)).toBe(true);
  });

  it.each([
    ['a non-hex pair, which Buffer.from would silently drop', `${'ab'.repeat(31)}zz`],
    ['a non-hex character mid-way', `${'ab'.repeat(15)}g${'a'.repeat(33)}`],
    ['one digit short', 'a'.repeat(63)],
    ['one digit long', 'a'.repeat(65)],
    ['a 0x prefix', `0x${'a'.repeat(62)}`],
    ['spaces', `${'a'.repeat(62)}  `],
  ])('refuses %s', (_label, value) => {
    expect(decodeHex(value, 32)).toBeNull();
  });
});

describe('decodeStrictBase64', () => {
  it('accepts only canonical padded standard base64', () => {
    expect(decodeStrictBase64('AAEC')?.equals(Buffer.from([0, 1, 2]))).toBe(true);
    expect(decodeStrictBase64('AAE=')?.equals(Buffer.from([0, 1]))).toBe(true);
    for (const bad of ['', 'AAE', 'AAF=', 'AA==AA==', 'AA-_', 'AA E', '====', 'A===']) {
      expect(decodeStrictBase64(bad)).toBeNull();
    }
  });
});

describe('checkTimestamp', () => {
  it('accepts 1-10 digits within the tolerance, either way', () => {
    expect(checkTimestamp('1000', 'ts', 10, 1010)).toBe(1000);
    expect(checkTimestamp('1020', 'ts', 20, 1000)).toBe(1020);
    expect(checkTimestamp('0', 'ts', 5, 5)).toBe(0);
  });

  it.each(['', '12345678901', '1e3', ' 1000', '1000 ', '+1000', '10.0', '١٠٠٠'])(
    'refuses %j as not an integer',
    (text) => {
      expect(() => checkTimestamp(text, 'ts', 1e10, 1000)).toThrow(AuthenticationError);
    },
  );

  it('refuses one second beyond the tolerance, past and future', () => {
    expect(() => checkTimestamp('989', 'ts', 10, 1000)).toThrow(/more than 10 seconds/);
    expect(() => checkTimestamp('1011', 'ts', 10, 1000)).toThrow(/more than 10 seconds/);
  });
});

describe('jsonStringField', () => {
  it('reads a top-level string field that is a usable id', () => {
    expect(jsonStringField(Buffer.from('{"id":"evt_1","data":{"id":"x"}}'), 'id')).toBe('evt_1');
  });

  it.each(['not json', '[]', 'null', '"id"', '{"id":1}', '{"id":""}', '{"id":"a b"}', '{"other":"x"}'])(
    'gives nothing for %s',
    (text) => {
      expect(jsonStringField(Buffer.from(text), 'id')).toBeUndefined();
    },
  );

  it('does not read inherited properties', () => {
    expect(jsonStringField(Buffer.from('{}'), 'constructor')).toBeUndefined();
  });
});

describe('contentHashId', () => {
  it('is sha256:<hex> of the parts, concatenated', () => {
    const expected = `sha256:${createHash('sha256').update('v0:1:body').digest('hex')}`;
    expect(contentHashId('v0:1:', Buffer.from('body'))).toBe(expected);
  });
});

describe('readOptions', () => {
  it('refuses a __proto__ key from parsed JSON as an unknown option', () => {
    expect(() => readOptions('x', JSON.parse('{"__proto__":{"polluted":true}}'), ['prefix'])).toThrow(/Unknown option/);
  });

  it('quotes at most 40 characters of an unknown option name', () => {
    let message = '';
    try {
      readOptions('x', { ['k'.repeat(100)]: 1 }, []);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('k'.repeat(40));
    expect(message).not.toContain('k'.repeat(41));
  });
});
