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
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 180000,
};
