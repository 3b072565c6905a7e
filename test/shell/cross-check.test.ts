// The tokenizer's two readings must agree, and each shell operator is refused
// as an operator. Where our scanner and shell-quote disagree the command is
// refused: shell-quote reads "#" inside a word as the start of a comment
// (sh does not), so such a word is the one real disagreement known, and it
// pins the cross-check (switching it off would accept these strings).
import { describe, expect, it } from 'vitest';
import { tokenize, tokenizeQuoted } from '../../src/shell/tokenize.js';

const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu . ';
const ambiguous = /the quoting is ambiguous \(two shell parsers disagree on the words\)/;

describe('where the two parsers disagree, the command is refused', () => {
  it.each(['data/a#b', "data/'x'#y", 'data/x\\ #y', '"a"#b', 'a#', 'a##', 'data/*#'])('%s', (path) => {
    const t = tokenize(`${PULL}${path}`);
    expect(t).toMatchObject({ ok: false, code: 'shell-syntax' });
    expect(!t.ok && t.reason).toMatch(ambiguous);
  });
  it('a "#" inside quotes is one reading, and accepted', () => {
    expect(tokenize(`${PULL}'data/a#b'`)).toEqual({ ok: true, words: [...PULL.trim().split(' '), 'data/a#b'] });
    expect(tokenize(`${PULL}"data/a#b"`)).toEqual({ ok: true, words: [...PULL.trim().split(' '), 'data/a#b'] });
  });
});

describe('every shell operator character is refused as an operator', () => {
  // Alone, at the start, in the middle and at the end of a word, and unspaced.
  it.each([';', '&', '|', '<', '>', '(', ')'])('%s', (op) => {
    for (const cmd of [`${PULL}data/ ${op} id`, `${PULL}data/${op}`, `${PULL}${op}data/`, `${PULL}da${op}ta/`, `${op}${PULL}data/`]) {
      const t = tokenizeQuoted(cmd);
      expect(t.ok, cmd).toBe(false);
      expect(!t.ok && t.reason, cmd).toBe(`"${op}" is a shell operator (command chaining, pipes, redirections and subshells are refused)`);
    }
  });
  it.each([';', '&', '|', '<', '>', '(', ')'])('%s quoted is a literal character', (op) => {
    expect(tokenize(`${PULL}'da${op}ta/'`)).toMatchObject({ ok: true, words: expect.arrayContaining([`da${op}ta/`]) });
    expect(tokenize(`${PULL}da\\${op}ta/`)).toMatchObject({ ok: true, words: expect.arrayContaining([`da${op}ta/`]) });
  });
});
