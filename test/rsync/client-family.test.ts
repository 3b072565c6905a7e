// The client family the grammar tells from a line's shape (src/rsync/grammar.ts clientFamily): it decides whether a
// daemon policy starts its rsyncd.conf for openrsync's HOST::MODULE line, so each shape is pinned on a recorded line.
import { describe, expect, it } from 'vitest';
import { clientFamily, parseServerArgs } from '../../src/rsync/grammar.js';
import { FAMILY_LINES } from './client-family-lines.js';

describe('clientFamily on what real clients send', () => {
  it.each(FAMILY_LINES.map((l) => [l.client, l.line, l.family] as const))('%s: %s → %s', (_client, line, family) => {
    const r = parseServerArgs(line.split(' '));
    expect(r.ok).toBe(true);
    if (!r.ok || r.command.kind !== 'server') throw new Error('not a server line');
    expect(r.command.family).toBe(family);
    expect('family' in r.command).toBe(family !== undefined);
    expect(clientFamily(r.command.clusters)).toBe(family);
  });

  it('no short option at all shows neither', () => {
    expect(clientFamily([])).toBeUndefined();
    const r = parseServerArgs(['rsync', '--server', '--sender', '--dirs', '.', '/data/']);
    expect(r.ok && r.command.kind === 'server' && 'family' in r.command).toBe(false);
  });
});
