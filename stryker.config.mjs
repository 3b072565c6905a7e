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
// Scores of the last full runs (killed or timed out ÷ valid mutants, static
// ignored), on a quiet 2-CPU machine: decide.ts 93.2% (742/796), net.ts
// 94.7% (201/213), grammar.ts 97.6% (320/328), tokenize.ts 93.0% (240/258);
// docs/development.md has the table. Every survivor left is listed here as harmless:
// equivalent (no input behaves differently), or it only refuses more.
//
// decide.ts
// - optionValue's `realRoot === '/'` line (made false, or startsWith('')):
//   resolving under root "/" gives the same canonical path, and a relative
//   value stays as spelled either way; toAbsoluteInRoot's `^\/+` variants
//   and mapPath's `\/{2,}` collapse (the value is resolved, or collapsed,
//   afterwards); `abs === realRoot` and `rel === ''` (slicing or resolving
//   gives root either way); resolveInside's `\/+$` for `\/$` (the kernel
//   reads "x//" as "x"); checkGlob's `part === ''` (a trailing "/" appends
//   nothing the kernel sees).
// - mapPath's wildcard branch taken for a push too (made true, or `||`):
//   checkGlob then checks every match and the directory, which only refuses
//   more. checkGlob's `cut < 0` (made false, `<= 0`): checks a longer static
//   prefix, which only refuses more; globToRegExp without its leading `^`
//   (matches more names, so refuses more); `end <= 0` (end is at least 2).
// - resolveInside's `|| '/'`: a walk that has lost even "/" ends in the same
//   refusal with "".
// - The destination directory of an unpinned push with its trailing "/"
//   replaced by other text: the nearest existing ancestor, and so the
//   verdict, is the same.
// - isListed's some() for every(): the sets hold every spelling of each
//   listed option, so an option is in them with all its names or none.
// - optionRefusal's `risk === 'refused'`: the grammar refuses those first.
// - pinSources/pinDestination: `/\/+$/` for `/\/$/`, `/\/\./` and `/\.$/`
//   variants (mapPath has collapsed repeated slashes and made the path
//   relative); `slash <= 0` for `slash < 0` (no relative path starts with
//   "/"); `leaf === ''` (a trailing slash is "contents", so a leaf is never
//   empty); `p === '.'`, `p === './'`, `dest === '.'`/`'./'` and `dir === cwd`
//   (covered by the endsWith tests, or left unpinned with the same result:
//   rsync in root sending or receiving ".").
//
// net.ts
// - parseV6: the character-class and 45-character pre-check is redundant
//   (every group is 1-4 hex digits or a final dotted quad, so no valid
//   address is longer or holds other characters); `halves.length === 2 ?
//   missing : 0` (with one half, missing is 0); unmap's `ip.length === 16`
//   (a 4-byte address has no byte 10); inPrefix's loop bounds and 8-bit mask
//   (the prefix never exceeds the width, checked before); validAddressEntry's
//   `ip === undefined` (split always gives a first element).
//
// tokenize.ts
// - The cross-check's length and word comparisons. No string is known on
//   which both parsers return plain words that differ (a search of 200,000
//   generated strings over the quoting alphabet found only "#" inside a word,
//   where shell-quote returns a comment and the check refuses it:
//   test/shell/cross-check pins that); the glob-entry test (any other entry
//   shell-quote returns makes the words differ, and is refused anyway); the
//   env callback that throws (the scanner refuses every "$" first).
// - `end <= 0` in the single-quote scan (indexOf from i + 1); the double-quote
//   loop's `i <= n` and `e === undefined` made false (both end in the same
//   "unbalanced double quote"); quoteWord's `w !== ''` made true or its
//   replacement string changed (an empty word fails the pattern anyway).
//
// grammar.ts
// - err's `option === undefined` made false (an absent option and an
//   undefined one read alike); `program === undefined` and its '' fallback
//   (tokenize never returns no words); `eq < 0`/`eq >= 0` against 0 (a long
//   option's "=" is never at index 0); `next === undefined` made false (an
//   undefined value fails the number test, or leaves no "." separator: both
//   refused); the numeric short option's `(.*)$` without `$` (".*" runs to the
//   end anyway).
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
