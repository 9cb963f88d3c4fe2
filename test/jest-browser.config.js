import base from '../jest.config.js';

/** Browser tests: the built console in Debian's Chromium against the real app, PostgreSQL and Redis. */
export default {
  ...base,
  rootDir: '..',
  roots: ['<rootDir>/test'],
  testRegex: '.*\\.browser-spec\\.ts$',
  testTimeout: 60000,
};
