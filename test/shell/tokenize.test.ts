import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as shellQuoteParse } from 'shell-quote';
import { quoteWords, tokenize, tokenizeQuoted } from '../../src/shell/tokenize.js';

describe('tokenize: accepted strings give the words sh would give', () => {
  const cases: [string, string[]][] = [
    ['rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /', ['rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '.', '/']],
    // rsync >= 3.2.4 backslash-escapes what the shell would otherwise act on.
    ['rsync --server --sender -vlogDtpre.iLsfxCIvu . /a\\ b/', ['rsync', '--server', '--sender', '-vlogDtpre.iLsfxCIvu', '.', '/a b/']],
    ['rsync --server --sender -v . /x/\\$y\\;z', ['rsync', '--server', '--sender', '-v', '.', '/x/$y;z']],
    ["rsync --server . 'it'\\''s'", ['rsync', '--server', '.', "it's"]],
    ['rsync --server . "dq \\$ \\" \\\\ \\a"', ['rsync', '--server', '.', 'dq $ " \\ \\a']],
    ['rsync --server . /x/*.c', ['rsync', '--server', '.', '/x/*.c']],
    ['rsync --server . /x/[ab]?', ['rsync', '--server', '.', '/x/[ab]?']],
    ['rsync --server . /grüße/日本', ['rsync', '--server', '.', '/grüße/日本']],
    ['rsync  --server   .  a', ['rsync', '--server', '.', 'a']],
    // What rsync 3.5 sends for /a#b/x~y/{a,b}/c!d: it escapes #, braces and !.
    ['rsync --server . /a\\#b/x~y/\\{a,b\\}/c\\!d', ['rsync', '--server', '.', '/a#b/x~y/{a,b}/c!d']],
    ["rsync --server . ''", ['rsync', '--server', '.', '']],
    ['true', ['true']],
    // bash's brace and tilde expansions, quoted or escaped: literal in sh and bash alike.
    ["rsync --server . '{a,b}' \\{1..3\\} \"{x,y}\" a,b}", ['rsync', '--server', '.', '{a,b}', '{1..3}', '{x,y}', 'a,b}']],
    ["rsync --server . a=\\~/x 'a=~' x:\\~ a~b /x~y", ['rsync', '--server', '.', 'a=~/x', 'a=~', 'x:~', 'a~b', '/x~y']],
  ];
  it.each(cases)('%s', (input, words) => {
    expect(tokenize(input)).toEqual({ ok: true, words });
  });
});

describe('tokenize: refused strings name the reason', () => {
  const cases: [string, RegExp][] = [
    ['rsync --server . /; id', /operator/],
    ['rsync --server . / | cat', /operator/],
    ['rsync --server . / && id', /operator/],
    ['rsync --server . / > /etc/passwd', /operator/],
    ['rsync --server . / < /etc/shadow', /operator/],
    ['rsync --server . $(id)', /expansion/],
    ['rsync --server . `id`', /backquote/],
    ['rsync --server . $HOME', /expansion/],
    ['rsync --server . ${HOME}', /expansion/],
    ['rsync --server . "$HOME"', /expansion/],
    ['rsync --server . "`id`"', /backquote/],
    ['rsync --server . # comment', /comment/],
    ['rsync --server . ~/x', /tilde/],
    ['rsync --server . ~root', /tilde/],
    ['rsync --server . ~+', /tilde/],
    ['rsync --server . ~-/x', /tilde/],
    // bash only (root's shell on Debian and RHEL): dash leaves these alone.
    ['rsync --server . a=~/x', /"~" after "=" or ":" is tilde expansion in bash/],
    ['rsync --server . --partial-dir=~/p', /tilde expansion in bash/],
    ['rsync --server . a=b:~/c', /tilde expansion in bash/],
    ['rsync --server . {a,b}', /brace expansion in bash/],
    ['rsync --server . x{1..3}', /brace expansion in bash/],
    ['rsync --server . /data/{a,b}/', /brace expansion in bash/],
    ['rsync --server . {a}', /brace expansion/],
    ['rsync --server . /x\nid', /control/],
    ['rsync --server . /x\rid', /control/],
    ['rsync --server .\t/x', /control/],
    ["rsync --server . 'open", /unbalanced single/],
    ['rsync --server . "open', /unbalanced double/],
    ['rsync --server . x\\', /trailing backslash/],
    ['rsync\u00a0--server . /', /non-breaking/],
    ['rsync --server . /\ufffd', /U\+FFFD/],
    ['rsync --server . (x)', /operator/],
    ['', /empty/],
    [`rsync --server . /${'a'.repeat(70000)}`, /64 KiB/],
    // sh reads a mid-word "#" literally, shell-quote as a comment: the two
    // readings disagree, so it is refused (a real client escapes it).
    ['rsync --server . a#b', /ambiguous/],
  ];
  it.each(cases)('%j', (input, reason) => {
    const r = tokenize(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('shell-syntax');
      expect(r.reason).toMatch(reason);
    }
  });
});

describe('quoteWords', () => {
  it.each([[['a b', "c'd", '$x', '', 'plain/path-1']], [['--opt=va lue', '*']]])('round-trips %j', (words) => {
    expect(tokenize(quoteWords(words))).toEqual({ ok: true, words });
  });
  it('quotes only what needs it, as sh would read it back', () => {
    expect(quoteWords(['rsync', '--server', '-e.LsfxC', 'a', 'ab/c', '', 'a b', "it's", '*'])).toBe(`rsync --server -e.LsfxC a ab/c '' 'a b' 'it'\\''s' '*'`);
  });
});

describe('the scanner, exactly', () => {
  it.each([
    // Spaces around the words make no empty word.
    [" 'a'", ['a']],
    ["'a' ", ['a']],
    ["  'a'  b  ", ['a', 'b']],
    // Inside double quotes a backslash escapes $ ` " and itself, and is kept before anything else.
    ['x "a\\$b"', ['x', 'a$b']],
    ['x "a\\"b"', ['x', 'a"b']],
    ['x "a\\\\b"', ['x', 'a\\b']],
    ['x "a\\b"', ['x', 'a\\b']],
  ])('%s', (input, words) => {
    expect(tokenizeQuoted(input)).toEqual({ ok: true, words });
  });
  it('an escaped backquote in double quotes is a literal one to sh, but shell-quote reads it otherwise: refused as ambiguous, not as a substitution', () => {
    expect(tokenizeQuoted('x "a\\`b"')).toEqual({ ok: false, code: 'shell-syntax', reason: 'the quoting is ambiguous (two shell parsers disagree on the words); refusing rather than guessing' });
  });
  it('a backslash that ends the input inside double quotes: unbalanced', () => {
    expect(tokenizeQuoted('x "a\\')).toEqual({ ok: false, code: 'shell-syntax', reason: 'unbalanced double quote' });
  });
});

describe('the plain-words fast path', () => {
  // tokenize() splits a command of plain words on " " without running the
  // scanner and shell-quote; that is only sound if both would read it so.
  const PLAIN = [...'abcXYZ019_@%+=:,./-'];
  const plainWord = fc.string({ unit: fc.constantFrom(...PLAIN), minLength: 1, maxLength: 12 });
  const wordsOf = (r: ReturnType<typeof tokenize>) => (r.ok ? r.words : null);
  const plainCommand = fc.array(plainWord, { minLength: 1, maxLength: 8 }).map((ws) => ws.join(' '));

  it('gives what the scanner and shell-quote give, for generated plain commands', () => {
    fc.assert(
      fc.property(plainCommand, (cmd) => {
        const fast = tokenize(cmd);
        expect(fast).toEqual({ ok: true, words: cmd.split(' ') });
        expect(tokenizeQuoted(cmd)).toEqual(fast);
        expect(shellQuoteParse(cmd)).toEqual(cmd.split(' '));
      }),
      { numRuns: 2000, seed: 2026 },
    );
  });

  it('never differs from the full path, for strings over plain and shell characters', () => {
    const ANY = [...PLAIN, ...' #~*?[]{}!$`\'"\\;&|<>()\t\n'];
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...ANY), minLength: 1, maxLength: 30 }), (cmd) => {
        expect(wordsOf(tokenize(cmd))).toEqual(wordsOf(tokenizeQuoted(cmd)));
      }),
      { numRuns: 5000, seed: 7 },
    );
  });

  it.each([
    ['rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /'],
    ['rsync --server -vlogDtprxze.iLsfxCIvu --delete-after --numeric-ids --partial-dir=.rsync-partial . /srv/backup/host-1/'],
    ['rsync --server --sender -e.LsfxCIvu --files-from=- --from0 . /'],
  ])('agrees with the full path on a real client command: %s', (cmd) => {
    expect(tokenize(cmd)).toEqual(tokenizeQuoted(cmd));
  });

  it.each([[' rsync --server . /'], ['rsync  --server . /'], ['rsync --server . / '], ['rsync --server . a#b'], ['rsync --server . ~x']])(
    'leaves the rest to the full path: %j',
    (cmd) => {
      expect(tokenize(cmd)).toEqual(tokenizeQuoted(cmd));
    },
  );
});
