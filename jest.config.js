/** Unit tests: *.spec.ts beside the code (the API's and the console's), no database. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/web'],
  testRegex: '.*\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': '@swc/jest' },
  // Its functions run in worker threads as source text: coverage counters would be undefined names there.
  coveragePathIgnorePatterns: ['/node_modules/', '/src/engine/expression\\.runtime\\.ts$'],
};
