// The grammar accepts only whole words of the forms a client sends: a
// capability string is nothing but "e", an optional protocol, "." and
// letters; a number is digits. Anything trailing is refused, since a prefix
// match would pass the rest to rsync unchecked (after -e, as a remote shell).
import { describe, expect, it } from 'vitest';
import { isRsyncProgram, parseServerArgs } from '../../src/rsync/grammar.js';

const parse = (...words: string[]) => parseServerArgs(['rsync', '--server', '--sender', ...words, '.', 'data/']);

describe('capability strings', () => {
  it.each(['e.iLsfxCIvu', 'e31.iLsfxCIvu', 'e31.2iLsfxCIvu', 'e31.2', 'e.', 'e31.'])('-vlogDtpr%s is one', (cap) => {
    const r = parse(`-vlogDtpr${cap}`);
    expect(r).toMatchObject({ ok: true, command: { capabilities: cap.slice(1) } });
  });
  it.each([
    'e.iLsfxCIvu/bin/sh', // the first form, then a path
    'e.iLs sh', // a quoted space
    'e.iLs-x',
    'e31.iLs/bin/sh',
    'e31.2iLs/bin/sh', // the second form (a sub-protocol), then a path
    'e31.2/bin/sh',
    'e31.2.3',
    'e31/bin/sh',
    'e31',
    'esh',
    'e',
    'e.1',
  ])('-vlogDtpr%s is refused as a remote shell', (cap) => {
    const r = parse(`-vlogDtpr${cap}`);
    expect(r).toMatchObject({ ok: false, code: 'always-refused', option: '--rsh' });
    expect(!r.ok && r.reason).toMatch(/^-e is refused here: after "e" only rsync's capability string may follow/);
  });
});

describe('numbers', () => {
  it.each(['--timeout=30', '--max-delete=-1', '-B8192', '-@-1', '--block-size=123456789012'])('%s', (w) => {
    expect(parse(w).ok).toBe(true);
  });
  it.each(['--timeout=30x', '--timeout=x30', '--timeout=3 0', '--timeout=', '--max-delete=--1', '--block-size=1234567890123', '-B8192x', '-Bx8192', '-B', '-@1.5'])('%s', (w) => {
    expect(parse(w)).toMatchObject({ ok: false, code: 'syntax' });
  });
});

describe('the program word', () => {
  it.each(['rsync', '/usr/bin/rsync', '/usr/local/bin/rsync', '//rsync'])('%s', (w) => {
    expect(isRsyncProgram(w)).toBe(true);
  });
  it.each(['usr/bin/rsync', 'x/rsync', '/rsync', '/usr/bin/rsync2', '/usr/bin/rsync ', '/usr/bin/rsync/x', ' rsync', 'rsync '])('%j', (w) => {
    expect(isRsyncProgram(w)).toBe(false);
    expect(parseServerArgs([w, '--server', '--sender', '-v', '.', 'data/'])).toMatchObject({ ok: false, code: 'not-rsync' });
  });
});
