// The tokenizer against the real /bin/sh (dash here) and /bin/bash (root's
// login shell on Debian and RHEL, which sshd runs commands with). For every
// string the gate's tokenizer accepts, the words it returns must be exactly
// the words each shell produces for the same string with globbing off:
//
//   sh -c 'set -f; eval "set -- $1"; printf "%s\0" "$@"' sh "$cmd"
//   bash --norc --noprofile -c (the same)
//
// run with an empty environment (env -i: no BASH_ENV, no rc file) in a
// throwaway directory, the string always a positional argument. bash expands
// braces ({a,b}, {1..3}) with globbing off, and tildes after "=" in words
// shaped like assignments: strings with those are generated too. Any
// disagreement is a string on which what the gate checked is not what the
// client meant. Strings come from a real rsync client (its -e is a recorder)
// and from fast-check generators biased towards shell syntax. To stay fast,
// one sh process evaluates a whole batch, each command in its own subshell.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { tokenize, quoteWords } from '../../src/shell/tokenize.js';

/** The shells compared, as argv up to "-c". */
const SHELLS = {
  sh: ['/bin/sh'],
  bash: ['/bin/bash', '--norc', '--noprofile'],
} as const;
type Shell = keyof typeof SHELLS;
// Each command in a subshell, so one that sh rejects cannot end the batch; \1 ends a command's words.
// (printf repeats its format at least once, so an empty "$@" must not reach it.)
const BATCH = `for cmd do ( set -f; eval "set -- $cmd" && if [ $# -gt 0 ]; then printf '%s\\0' "$@"; fi ); printf '\\1\\0'; done`;
// bash (not in POSIX mode) survives a failing eval, so it needs no subshell
// per command, which is most of the cost under load; "set --" first, so a
// failed eval prints nothing, as above.
const BASH_BATCH = `set -f; for cmd do set --; eval "set -- $cmd" && if [ $# -gt 0 ]; then printf '%s\\0' "$@"; fi; printf '\\1\\0'; done`;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync('/tmp/gk-sec-sh-');
  chmodSync(scratch, 0o700);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The words the shell makes of each command (null where it failed). */
function shWords(commands: readonly string[], shell: Shell = 'sh'): (string[] | null)[] {
  const out: (string[] | null)[] = [];
  for (let start = 0; start < commands.length; start += 500) {
    const batch = commands.slice(start, start + 500);
    const cwd = mkdtempSync(join(scratch, 'cwd-'));
    // stdin not a socket either: on one, Debian's bash reads ~/.bashrc as under rshd.
    const r = spawnSync('/usr/bin/env', ['-i', ...SHELLS[shell], '-c', shell === 'bash' ? BASH_BATCH : BATCH, shell, ...batch], { cwd, encoding: 'buffer', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    rmSync(cwd, { recursive: true, force: true });
    const parts = r.stdout.toString('utf8').split('\0');
    parts.pop(); // after the last NUL
    let words: string[] = [];
    for (const p of parts) {
      if (p === '\u0001') {
        out.push(words);
        words = [];
      } else words.push(p);
    }
    if (out.length !== start + batch.length) throw new Error(`${shell} answered ${out.length - start} of ${batch.length} commands: ${r.stderr.toString()}`);
  }
  return out;
}

/** Compare tokenize() with sh and with bash on every accepted string; returns the number compared. */
function differential(commands: readonly string[]): { compared: number; accepted: string[]; mismatches: string[] } {
  const accepted: { cmd: string; words: string[] }[] = [];
  for (const cmd of commands) {
    const t = tokenize(cmd);
    if (t.ok) accepted.push({ cmd, words: t.words });
  }
  const mismatches: string[] = [];
  for (const shell of Object.keys(SHELLS) as Shell[]) {
    const words = shWords(accepted.map((x) => x.cmd), shell);
    accepted.forEach((x, k) => {
      const theirs = words[k];
      if (JSON.stringify(theirs) !== JSON.stringify(x.words)) mismatches.push(`${JSON.stringify(x.cmd)}: gate ${JSON.stringify(x.words)} ${shell} ${JSON.stringify(theirs)}`);
    });
  }
  return { compared: accepted.length, accepted: accepted.map((x) => x.cmd), mismatches };
}

describe('the harness', () => {
  it('sees what sh sees, including a difference (so the comparison can fail)', () => {
    expect(shWords(['a "b c" d\\ e', "x'y'z", ''])).toEqual([['a', 'b c', 'd e'], ['xyz'], []]);
    // With globbing off a pattern is a word; sh would expand $HOME if the gate let it through.
    expect(shWords(['*', 'echo $HOME'])).toEqual([['*'], ['echo']]);
  });

  it('sees what bash sees where it differs from sh: braces and tildes after "=" expand, with globbing off too', () => {
    const forms = ['{a,b}', 'x{1..3}', 'a=~/x', 'a=b:~/c', '~root', '\\{a,b}', "'a=~'"];
    expect(shWords(forms, 'bash')).toEqual([['a', 'b'], ['x1', 'x2', 'x3'], ['a=/root/x'], ['a=b:/root/c'], ['/root'], ['{a,b}'], ['a=~']]);
    expect(shWords(forms, 'sh')).toEqual([['{a,b}'], ['x{1..3}'], ['a=~/x'], ['a=b:~/c'], ['/root'], ['{a,b}'], ['a=~']]);
  });
});

function runRsyncQuietly(args: string[]): void {
  spawnSync('/usr/bin/rsync', args, { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
}

describe('real rsync client command lines', () => {
  it('every one the tokenizer accepts splits exactly as sh and bash split it', () => {
    const dir = mkdtempSync(join(scratch, 'client-'));
    const out = join(dir, 'commands');
    const rec = join(dir, 'record.sh');
    writeFileSync(rec, `#!/bin/sh\nshift\nprintf '%s\\0' "$*" >> '${out}'\nexit 1\n`, { mode: 0o755 });
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(dir, 'list'), 'f\n');
    for (const flags of CLIENT_FLAGS(dir)) {
      for (const name of CLIENT_NAMES) {
        runRsyncQuietly(['-e', rec, ...flags, `h:${name}`, join(dir, 'dst/')]);
        runRsyncQuietly(['-e', rec, ...flags, `h:${name}`, `:other ${name}`, join(dir, 'dst/')]);
        runRsyncQuietly(['-e', rec, ...flags, `${src}/`, `h:${name}`]);
      }
    }
    const commands = readFileSync(out, 'utf8').split('\0').filter((c) => c !== '');
    // (A few combinations the client itself rejects, such as -s with two remote sources, never call the recorder.)
    expect(commands.length).toBeGreaterThan(CLIENT_FLAGS(dir).length * CLIENT_NAMES.length * 2.5);
    const { compared, mismatches } = differential(commands);
    expect(mismatches).toEqual([]);
    // Most real command lines are accepted; the rest are refused, never split differently.
    expect(compared).toBeGreaterThan(commands.length * 0.8);
  }, 300_000);
});

const CLIENT_NAMES = [
  'data/',
  'with space/',
  "quote'single",
  'dq"double',
  '$HOME dollar',
  '${HOME}',
  'semi;colon',
  'amp&pipe|lt<gt>',
  '`tick`',
  '$(id)',
  'back\\slash',
  'star*glob?',
  '[br]acket',
  '~tilde',
  '#hash',
  'a=b',
  'ünïcødé ✓.txt',
  '-leading-dash',
  '(paren)',
  '{brace,x}',
  '!bang',
  '  two  spaces  ',
  'it\'s "both"',
];

const CLIENT_FLAGS = (dir: string): string[][] => [
  ['-avzx', '--numeric-ids', '--delete'],
  ['-a'],
  ['-rlptgoD', '--protocol=29'],
  ['-av', '--old-args'],
  ['-avH', `--files-from=${join(dir, 'list')}`],
  ['-av', '-s'],
  ['-av', '--link-dest=/backups/last dir/', '--partial-dir=.rsync partial'],
  ['-av', '--bwlimit=1m', '--timeout=30', '-B8192'],
];

// Characters that matter to sh, plus ordinary ones and a non-ASCII letter.
const SHELL_CHARS = [..." \\'\"$`;|&<>()*?[]~#={}!-./:@%+,^"];
const PLAIN = [...'abcrsynv0129é'];

const anyShellString = fc
  .array(fc.constantFrom(...SHELL_CHARS, ...PLAIN, ...PLAIN, ...PLAIN), { maxLength: 40 })
  .map((cs) => cs.join(''));

/** Words quoted in random, valid sh styles: always acceptable, so the comparison is exercised. */
const word = fc.string({ unit: fc.constantFrom(...SHELL_CHARS, ...PLAIN), maxLength: 12 });
const quoted = fc.tuple(word, fc.constantFrom('single', 'double', 'backslash', 'quoteWords', 'mixed')).map(([w, style]) => {
  switch (style) {
    case 'single':
      return `'${w.replace(/'/g, `'\\''`)}'`;
    case 'double':
      return `"${w.replace(/[\\"$`]/g, '\\$&')}"`;
    case 'backslash':
      return w.replace(/[^A-Za-z0-9]/g, '\\$&') || "''";
    case 'quoteWords':
      return quoteWords([w]);
    default:
      return w.length > 1 ? `'${w.slice(0, 1).replace(/'/g, `'\\''`)}'${w.slice(1).replace(/[^A-Za-z0-9]/g, '\\$&')}` : `"${w.replace(/[\\"$`]/g, '\\$&')}"`;
  }
});
const quotedCommand = fc.array(quoted, { minLength: 1, maxLength: 6 }).chain((ws) =>
  fc.array(fc.constantFrom(' ', '  '), { minLength: ws.length - 1, maxLength: ws.length - 1 }).map((sep) => ws.map((w, k) => (k === 0 ? w : `${sep[k - 1]}${w}`)).join('')),
);

// bash's own expansions: brace forms and tilde forms, bare, escaped and
// quoted, glued to each other and to shell characters.
const BASH_FORMS = [
  '{a,b}', 'x{a,b}y', '{1..3}', '{a..c}', '{,}', '{a}', '{a,b', 'a,b}', '{a,"b c"}', '{a,\\ b}', '\\{a,b}', "'{a,b}'", '\\{1..3\\}',
  '~', '~root', '~/x', '~+', '~-', '~+/x', '~-/x', 'a=~/x', 'a=~', 'A_1=~/q', '--x=~/y', 'x:~', 'a=b:~/c', 'a=x=~', '=~',
  '\\~', "'~'", 'a~b', 'a=\\~/x', "a='~'/x", 'a\\=~', '"a=~"',
];
const bashString = fc
  .array(fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...BASH_FORMS) }, { weight: 3, arbitrary: fc.constantFrom(...SHELL_CHARS, ...PLAIN, ...PLAIN) }), { minLength: 1, maxLength: 10 })
  .map((cs) => cs.join(''));
const bashCommand = fc.array(fc.oneof(fc.constantFrom(...BASH_FORMS), bashString), { minLength: 1, maxLength: 4 }).map((ws) => `rsync --server . ${ws.join(' ')}`);

describe('generated strings (fast-check)', () => {
  it('brace and tilde forms: whatever the tokenizer accepts, sh and bash split the same way', () => {
    const samples = [...fc.sample(bashString, { numRuns: 3000, seed: 1717 }), ...fc.sample(bashCommand, { numRuns: 2000, seed: 2929 })];
    const { compared, accepted, mismatches } = differential(samples);
    expect(mismatches).toEqual([]);
    // Not vacuous: many accepted strings hold a brace or tilde (quoted or escaped) that bash would have read.
    expect(compared).toBeGreaterThan(500);
    expect(accepted.filter((c) => /[{~]/.test(c)).length).toBeGreaterThan(200);
  }, 300_000);

  it('raw strings over shell syntax: whatever the tokenizer accepts, sh and bash split the same way', () => {
    const samples = fc.sample(anyShellString, { numRuns: 4000, seed: 4242 });
    const { compared, mismatches } = differential(samples);
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(200);
  }, 300_000);

  it('words quoted in every sh style: all accepted, and equal to what sh and bash make of them', () => {
    const samples = fc.sample(quotedCommand, { numRuns: 3000, seed: 777 });
    const { compared, mismatches } = differential(samples);
    expect(mismatches).toEqual([]);
    // Generated quoting is valid sh; only a word with a refused character (e.g. a leading ~ or #) is not accepted.
    expect(compared).toBeGreaterThan(samples.length * 0.5);
  }, 300_000);

  it('property: random strings, in fast-check runs with shrinking', () => {
    fc.assert(
      fc.property(fc.array(anyShellString, { minLength: 50, maxLength: 50 }), (batch) => {
        const { mismatches } = differential(batch);
        return mismatches.length === 0;
      }),
      { numRuns: 20, seed: 99 },
    );
  }, 300_000);
});
