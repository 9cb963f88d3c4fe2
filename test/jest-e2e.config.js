import base from '../jest.config.js';

/** E2E tests: the real app against the real PostgreSQL and Redis, one file at a time. */
export default {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.e2e-spec\\.ts$',
  testTimeout: 60000,
};
