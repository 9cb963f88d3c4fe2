import { describe, expect, it } from '@jest/globals';

import { nestedDeeperThan } from './validation.pipe.js';

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

describe('nestedDeeperThan', () => {
  it('counts a top-level object or array as one level, and scalars as none', () => {
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({ a: 1, b: 'x', c: null }, 1)).toBe(false);
    expect(nestedDeeperThan({ a: { b: [1] } }, 2)).toBe(true);
    expect(nestedDeeperThan({ a: { b: [1] } }, 3)).toBe(false);
  });

  it('finds the deepest branch wherever it is', () => {
    const value = { shallow: [1, 2], deep: [{ x: [nested(10)] }] };
    expect(nestedDeeperThan(value, 14)).toBe(false);
    expect(nestedDeeperThan(value, 13)).toBe(true);
  });

  it('walks nesting far past what a recursive walk survives', () => {
    expect(nestedDeeperThan(nested(200_000), 256)).toBe(true);
    expect(nestedDeeperThan(nested(256), 256)).toBe(false);
    expect(nestedDeeperThan(nested(257), 256)).toBe(true);
  });
});
