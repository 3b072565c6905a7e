import { describe, expect, it } from 'vitest';
import { quoteWords, tokenize } from '../../src/shell/tokenize.js';

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
});
