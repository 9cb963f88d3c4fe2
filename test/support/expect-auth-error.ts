import { expect } from '@jest/globals';

import { AuthenticationError } from '../../src/common/domain.error.js';

/** Runs `action` and checks that it threw an AuthenticationError with `code` (and nothing else). */
export function expectAuthError(action: () => unknown, code: string): AuthenticationError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AuthenticationError);
  expect((caught as AuthenticationError).code).toBe(code);
  return caught as AuthenticationError;
}
