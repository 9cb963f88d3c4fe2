import { describe, expect, it } from '@jest/globals';

import { readOptions } from './scheme-options.parser.js';

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
