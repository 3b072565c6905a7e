// @ts-check
// Mutation testing of the security core: `npm run mutation` (not part of
// `npm test`). StrykerJS changes the code one small edit at a time (a
// condition made true, a regex anchor dropped, a check removed) and runs the
// in-process tests (vitest.mutation.config.ts) against each change; a mutant
// no test notices "survives". Every survivor that would let through something
// that should be refused must be killed by a test. Reports: reports/mutation/.
//
// One file (or a line range) at a time while working on it:
//   npm run mutation -- --mutate src/net.ts
//   npm run mutation -- --mutate src/decide.ts:421-487
//
// Static mutants (module-level tables and constants: the option table, the
// operator set, the regexes) are ignored: each one reruns the whole suite,
// which takes hours on a shared 2-CPU machine. Those tables are pinned by
// behaviour instead (test/rsync/option-risks, test/rsync/strict-forms,
// test/shell/cross-check); set ignoreStatic: false to measure them too.
//
// Survivors judged harmless (equivalent, or they only refuse more):
// - net.ts parseV6: the character-class and 45-character pre-check is
//   redundant (every group is 1-4 hex digits or a final dotted quad, so no
//   valid address is longer or holds other characters); `halves.length === 2
//   ? missing : 0` (with one half, missing is 0); unmap's `ip.length === 16`
//   (a 4-byte address has no byte 10); inPrefix's loop bounds and 8-bit mask
//   (the prefix never exceeds the width, checked before); validAddressEntry's
//   `ip === undefined` (split always gives a first element).
// - decide.ts pinSources/pinDestination: `/\/+$/` for `/\/$/` and
//   `slash <= 0` for `slash < 0` (mapPath has already collapsed repeated
//   slashes and made the path relative); `leaf === ''` (a trailing slash is
//   "contents", so a leaf is never empty); the `realRoot === '/'` and
//   `cwd === '/'` arms there (a root of / is never pinned, and every
//   directory pinned lies inside a root other than /); pinSources' `p === '.'`
//   and `p === './'` (covered by the endsWith tests, or left unpinned with
//   the same result: rsync in root sending "."). toAbsoluteInRoot's `^\/+` variants
//   (the same path to the kernel). optionValue's path-kind test made false,
//   and optionRefusal's `risk === 'refused'` (the grammar refuses those
//   first): both only check or refuse more.
// - tokenize.ts: the cross-check's length and word comparisons. No string is
//   known on which both parsers return plain words that differ (a search of
//   200,000 generated strings over the quoting alphabet found only "#" inside
//   a word, where shell-quote returns a comment and the check refuses it:
//   test/shell/cross-check pins that).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // forks, not the default threads: the window code reads a zone's wall clock
  // by setting TZ for Date, which a worker thread's Date does not follow.
  vitest: { configFile: 'vitest.mutation.config.ts', pool: 'forks' },
  coverageAnalysis: 'perTest',
  ignoreStatic: true,
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
