/** Unit tests need nothing; integration tests need the local stack (npm test starts it). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    // @marcbachmann/cel-js ships only ES modules; jest's CommonJS runtime needs them compiled
    // (plain Node 20.19+ loads them through require(esm), so the built CLI needs nothing).
    '^.+/@marcbachmann/cel-js/.+\\.js$': ['ts-jest', { tsconfig: { allowJs: true, module: 'commonjs', isolatedModules: true } }],
  },
  // kafkajs 2.2.4's read_committed filter leaks records of aborted transactions
  // (src/source/kafkajs-patches/read-committed.ts); use the corrected one, as the CLI does.
  moduleNameMapper: { '^\\./filterAbortedMessages$': '<rootDir>/test/helpers/kafkajs-aborted-filter.ts' },
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 180000,
};
