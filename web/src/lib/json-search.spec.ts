import { describe, expect, it } from '@jest/globals';

import { searchJson, splitOnMatches } from './json-search';

describe('searchJson', () => {
  const doc = { order: { id: 42, items: [{ sku: 'AB-1' }, { sku: 'cd-2' }] }, 'x-y': true, empty: {} };

  it('finds values and keys, case-insensitive, with their paths', () => {
    expect(searchJson(doc, 'ab')).toEqual([{ path: 'order.items[0].sku', value: '"AB-1"' }]);
    expect(searchJson(doc, 'SKU')).toEqual([
      { path: 'order.items[0].sku', value: '"AB-1"' },
      { path: 'order.items[1].sku', value: '"cd-2"' },
    ]);
    expect(searchJson(doc, '42')).toEqual([{ path: 'order.id', value: '42' }]);
    expect(searchJson(doc, 'x-y')).toEqual([{ path: '["x-y"]', value: 'true' }]);
    expect(searchJson(doc, 'empty')).toEqual([{ path: 'empty', value: '{}' }]);
  });

  it('finds nothing for an empty query, and searches a bare value', () => {
    expect(searchJson(doc, '  ')).toEqual([]);
    expect(searchJson('Hello, Ada', 'ada')).toEqual([{ path: '', value: '"Hello, Ada"' }]);
    expect(searchJson(null, 'nu')).toEqual([{ path: '', value: 'null' }]);
  });

  it('stops at 200 matches', () => {
    expect(
      searchJson(
        Array.from({ length: 500 }, () => 'a'),
        'a',
      ),
    ).toHaveLength(200);
  });
});

describe('splitOnMatches', () => {
  it('splits around every occurrence, keeping the original case', () => {
    expect(splitOnMatches('Ada and ADA', 'ada')).toEqual([
      { text: 'Ada', match: true },
      { text: ' and ', match: false },
      { text: 'ADA', match: true },
    ]);
    expect(splitOnMatches('abc', '')).toEqual([{ text: 'abc', match: false }]);
  });
});
