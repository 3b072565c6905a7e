// The tokenizer against the real /bin/sh (dash here). For every string the
// gate's tokenizer accepts, the words it returns must be exactly the words
// sh produces for the same string with globbing off:
//
//   sh -c 'set -f; eval "set -- $1"; printf "%s\0" "$@"' sh "$cmd"
//
// run with an empty environment (env -i) in a throwaway directory. Any
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

const SH = '/bin/sh';
// Each command in a subshell, so one that sh rejects cannot end the batch; \1 ends a command's words.
// (printf repeats its format at least once, so an empty "$@" must not reach it.)
const BATCH = `for cmd do ( set -f; eval "set -- $cmd" && if [ $# -gt 0 ]; then printf '%s\\0' "$@"; fi ); printf '\\1\\0'; done`;

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync('/tmp/gk-sec-sh-');
  chmodSync(scratch, 0o700);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The words /bin/sh makes of each command (null where sh failed). */
function shWords(commands: readonly string[]): (string[] | null)[] {
  const out: (string[] | null)[] = [];
  for (let start = 0; start < commands.length; start += 500) {
    const batch = commands.slice(start, start + 500);
    const cwd = mkdtempSync(join(scratch, 'cwd-'));
    const r = spawnSync('/usr/bin/env', ['-i', SH, '-c', BATCH, 'sh', ...batch], { cwd, encoding: 'buffer', maxBuffer: 64 << 20 });
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
    if (out.length !== start + batch.length) throw new Error(`sh answered ${out.length - start} of ${batch.length} commands: ${r.stderr.toString()}`);
  }
  return out;
}

/** Compare tokenize() with sh on every accepted string; returns the number compared. */
function differential(commands: readonly string[]): { compared: number; mismatches: string[] } {
  const accepted: { cmd: string; words: string[] }[] = [];
  for (const cmd of commands) {
    const t = tokenize(cmd);
    if (t.ok) accepted.push({ cmd, words: t.words });
  }
  const sh = shWords(accepted.map((x) => x.cmd));
  const mismatches: string[] = [];
  accepted.forEach((x, k) => {
    const theirs = sh[k];
    if (JSON.stringify(theirs) !== JSON.stringify(x.words)) mismatches.push(`${JSON.stringify(x.cmd)}: gate ${JSON.stringify(x.words)} sh ${JSON.stringify(theirs)}`);
  });
  return { compared: accepted.length, mismatches };
}

describe('the harness', () => {
  it('sees what sh sees, including a difference (so the comparison can fail)', () => {
    expect(shWords(['a "b c" d\\ e', "x'y'z", ''])).toEqual([['a', 'b c', 'd e'], ['xyz'], []]);
    // With globbing off a pattern is a word; sh would expand $HOME if the gate let it through.
    expect(shWords(['*', 'echo $HOME'])).toEqual([['*'], ['echo']]);
  });
});

function runRsyncQuietly(args: string[]): void {
  spawnSync('/usr/bin/rsync', args, { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
}

describe('real rsync client command lines', () => {
  it('every one the tokenizer accepts splits exactly as sh splits it', () => {
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
  });
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

describe('generated strings (fast-check)', () => {
  it('raw strings over shell syntax: whatever the tokenizer accepts, sh splits the same way', () => {
    const samples = fc.sample(anyShellString, { numRuns: 4000, seed: 4242 });
    const { compared, mismatches } = differential(samples);
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(200);
  });

  it('words quoted in every sh style: all accepted, and equal to what sh makes of them', () => {
    const samples = fc.sample(quotedCommand, { numRuns: 3000, seed: 777 });
    const { compared, mismatches } = differential(samples);
    expect(mismatches).toEqual([]);
    // Generated quoting is valid sh; only a word with a refused character (e.g. a leading ~ or #) is not accepted.
    expect(compared).toBeGreaterThan(samples.length * 0.5);
  });

  it('property: random strings, in fast-check runs with shrinking', () => {
    fc.assert(
      fc.property(fc.array(anyShellString, { minLength: 50, maxLength: 50 }), (batch) => {
        const { mismatches } = differential(batch);
        return mismatches.length === 0;
      }),
      { numRuns: 20, seed: 99 },
    );
  });
});
