// @ts-check
// Mutation testing of the security core: `npm run mutation` (not part of
// `npm test`). StrykerJS changes the code one small edit at a time (a
// condition made true, a regex anchor dropped, a check removed) and runs the
// in-process tests (vitest.mutation.config.ts) against each change; a mutant
// no test notices "survives". Every survivor that would let through something
// that should be refused must be killed by a test. Reports: reports/mutation/.
//
// One file at a time while working on it:
//   npm run mutation -- --mutate src/net.ts
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: ['src/shell/tokenize.ts', 'src/rsync/grammar.ts', 'src/rsync/options.ts', 'src/decide.ts', 'src/net.ts'],
  // Only what the tests need is copied into the sandbox.
  ignorePatterns: ['/*', '!/src', '!/test', '!/package.json', '!/tsconfig.json', '!/vitest.mutation.config.ts'],
  // The machine running this is usually shared: one or two test processes.
  concurrency: 2,
  timeoutMS: 60_000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  thresholds: { high: 90, low: 80, break: null },
};
