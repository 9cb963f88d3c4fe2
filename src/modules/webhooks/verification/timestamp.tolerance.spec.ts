import { describe, expect, it } from '@jest/globals';

import { AuthenticationError } from '../../../common/domain.error.js';
import { checkTimestamp } from './timestamp.tolerance.js';

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
