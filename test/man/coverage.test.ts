// man/gatekeeper.8 documents every command and option commander defines: the
// tree is walked (cli.ts: buildProgram), so a command or option added without
// its man entry fails here, naming what is missing. groff reads the page too
// and must have nothing to warn about.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Help } from 'commander';
import { buildProgram } from '../../src/cli.js';
import { REPO } from '../helpers/gate.js';
import { readManEntries } from './reader.js';

const MAN = join(REPO, 'man/gatekeeper.8');

/** Every command path with the flags --help shows for it (-h/--help and -V/--version are commander's own). */
function tree(cmd: Command, path: string[] = []): { path: string; flags: string[] }[] {
  const flags = new Help()
    .visibleOptions(cmd)
    .flatMap((o) => [o.long, o.short])
    .filter((f): f is string => typeof f === 'string' && !['-h', '--help', '-V', '--version'].includes(f));
  return [...(path.length ? [{ path: path.join(' '), flags }] : []), ...cmd.commands.flatMap((c) => tree(c, [...path, c.name()]))];
}

describe('man/gatekeeper.8', () => {
  const man = readManEntries(readFileSync(MAN, 'utf8'));
  it('has a COMMANDS entry (.SS gatekeeper PATH) for every command', () => {
    const missing = tree(buildProgram()).map((c) => c.path).filter((p) => !man.commands.has(p));
    expect(missing.map((p) => `no ".SS gatekeeper ${p}" in man/gatekeeper.8`)).toEqual([]);
  });
  it("has an option entry (.TP, then the flags in bold) for every option, under its command's entry", () => {
    const missing = tree(buildProgram()).flatMap((c) => c.flags.filter((f) => !man.commands.get(c.path)?.has(f)).map((f) => `gatekeeper ${c.path} ${f}: no entry in man/gatekeeper.8`));
    expect(missing).toEqual([]);
  });
  it('names no command that does not exist', () => {
    const paths = new Set(tree(buildProgram()).map((c) => c.path));
    expect([...man.commands.keys()].filter((p) => !paths.has(p))).toEqual([]);
  });
  it('groff renders it without a warning', () => {
    const out = execFileSync('groff', ['-man', '-Tutf8', '-ww', '-z', MAN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
    const err = execFileSync('sh', ['-c', 'groff -man -Tutf8 -ww -z "$0" 2>&1 >/dev/null', MAN], { encoding: 'utf8' });
    expect(err).toBe('');
  });
});
