import { createHash } from 'node:crypto';

import { describe, expect, it } from '@jest/globals';

import { contentHashId, jsonStringField } from './delivery-id.rules.js';

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
