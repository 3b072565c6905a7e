// Policy keys that must keep refusing: options.allow does not lift the delete
// refusal (only `delete: true` does), `confineRoot: true` forces
// --confine-root whatever the capability probe answered, and a push's
// destination-relative option paths are checked from the destination
// directory also when written with a trailing "/" or "/.".
import { beforeAll, describe, expect, it } from 'vitest';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import type { Decision } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { policy, useTree } from '../helpers/policy.js';

const tree = useTree();
let root: string;
beforeAll(() => {
  root = tree.root();
});

const session = (cmd: string): Session => ({ originalCommand: cmd, client: { addr: '192.0.2.10', port: 40000 }, server: null, user: 'root', userAuthFile: null });
const run = (cmd: string, input: PolicyInput, confineRootSupported = true): Decision => evaluate(session(cmd), policy(input), { fs: realFs, confineRootSupported });
const argvOf = (d: Decision): string[] => {
  if (d.verdict !== 'allow') throw new Error(`refused: ${d.reason}`);
  return d.argv;
};

describe('options.allow does not lift the delete refusal', () => {
  it.each([
    ['--delete', 'rsync --server -vlogDtpre.iLsfxCIvu --delete . /dst/'],
    ['--delete-after', 'rsync --server -vlogDtpre.iLsfxCIvu --delete-after . /dst/'],
    ['--remove-source-files', 'rsync --server --sender -vlogDtpre.iLsfxCIvu --remove-source-files . /data/'],
  ])('%s listed in options.allow, without delete: true', (option, cmd) => {
    const d = run(cmd, { root, access: 'read-write', options: { allow: [option] } });
    expect(d).toMatchObject({ verdict: 'deny', code: 'delete-refused' });
    expect(d.verdict === 'deny' && d.reason).toMatch(new RegExp(`option ${option} is refused: .*set \`delete: true\``));
    // delete: true is what allows it.
    expect(run(cmd, { root, access: 'read-write', delete: true }).verdict).toBe('allow');
  });
});

describe('confineRoot', () => {
  const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu . /dst/';
  const PULL = 'rsync --server --sender -vlogDtpre.iLsfxCIvu . /data/';
  it('true forces --confine-root (and --drop-D on a push) even when the probe says rsync lacks it', () => {
    for (const supported of [false, true]) {
      expect(argvOf(run(PUSH, { root, access: 'write-only', confineRoot: true }, supported))).toEqual(expect.arrayContaining([`--confine-root=${root}`, '--drop-D']));
      const pull = argvOf(run(PULL, { root, confineRoot: true }, supported));
      expect(pull).toContain(`--confine-root=${root}`);
      expect(pull).not.toContain('--drop-D');
    }
  });
  it('auto follows the probe; false never adds it; root / never needs it', () => {
    expect(argvOf(run(PUSH, { root, access: 'write-only' }, true))).toContain(`--confine-root=${root}`);
    const none = (argv: string[]) => argv.filter((a) => a.startsWith('--confine-root') || a === '--drop-D');
    expect(none(argvOf(run(PUSH, { root, access: 'write-only' }, false)))).toEqual([]);
    expect(none(argvOf(run(PUSH, { root, access: 'write-only', confineRoot: false }, true)))).toEqual([]);
    expect(none(argvOf(run(PUSH, { access: 'write-only', confineRoot: true }, true)))).toEqual([]);
  });
  it('the forced options come before "--", after the client\'s', () => {
    const argv = argvOf(run(PUSH, { root, access: 'write-only', confineRoot: true, mungeLinks: true, overwrite: false }, false));
    expect(argv.slice(-8)).toEqual(['--munge-links', '--ignore-existing', `--confine-root=${root}`, '--drop-D', '--chmod=ugo-s', '--', '.', '.']);
  });
});

describe('a push\'s destination-relative directories, however the value is spelled', () => {
  it.each(['out/', 'out//', 'out/.', 'out/./', './out', 'out/x/'])('--backup-dir=%s through a symlink from the destination is refused', (value) => {
    symlinkSync(tree.outside(), join(root, 'bk', 'out'));
    try {
      for (const opt of ['--backup-dir', '--partial-dir', '--temp-dir', '--link-dest']) {
        const d = run(`rsync --server -vlogDtpre.iLsfxCIvu ${opt}=${value} . /bk/`, { root, access: 'read-write' });
        expect(d, opt).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
        expect(d.verdict === 'deny' && d.reason, opt).toMatch(/from the destination directory .*outside the policy root/);
      }
    } finally {
      rmSync(join(root, 'bk', 'out'));
    }
  });
  it('also when the destination directory is named without its "/"', () => {
    symlinkSync(tree.outside(), join(root, 'bk', 'out'));
    try {
      const d = run('rsync --server -vlogDtpre.iLsfxCIvu --temp-dir=out/ . /bk', { root, access: 'read-write' });
      expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    } finally {
      rmSync(join(root, 'bk', 'out'));
    }
  });
});

describe('the from list and the root fail closed', () => {
  it('a from list refuses a session without a client address (no SSH_CONNECTION)', () => {
    const noClient: Session = { ...session('rsync --server --sender -vlogDtpre.iLsfxCIvu . /data/'), client: null };
    const d = evaluate(noClient, policy({ root, from: ['192.0.2.0/24'] }), { fs: realFs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'deny', code: 'from' });
    expect(d.verdict === 'deny' && d.reason).toMatch(/client address \(unknown: no SSH_CONNECTION\) is not in the policy's "from" list/);
  });
  it('a root that does not exist refuses', () => {
    const d = run('rsync --server --sender -vlogDtpre.iLsfxCIvu . /data/', { root: `${root}/no-such-dir` });
    expect(d).toMatchObject({ verdict: 'deny', code: 'config' });
  });
});

describe('option values that name no usable path', () => {
  it('a write-only policy reads no --files-from list from a server path, but takes one over the protocol', () => {
    const d = run('rsync --server -vlogDtpre.iLsfxCIvu --files-from=/list . /dst/', { root, access: 'write-only' });
    expect(d).toMatchObject({ verdict: 'deny', code: 'access', options: ['--files-from'] });
    expect(d.verdict === 'deny' && d.reason).toMatch(/a write-only policy cannot read a --files-from list from a server path/);
    const stdin = run('rsync --server -vlogDtpre.iLsfxCIvu --files-from=- . /dst/', { root, access: 'write-only' });
    expect(stdin.verdict === 'allow' && stdin.argv).toContain('--files-from=-');
  });
  it.each(['--temp-dir', '--link-dest', '--backup-dir'])('an empty %s is refused', (name) => {
    const d = run(`rsync --server -vlogDtpre.iLsfxCIvu ${name}= . /dst/`, { root, access: 'read-write' });
    expect(d).toMatchObject({ verdict: 'deny', code: 'syntax' });
    expect(d.verdict === 'deny' && d.reason).toBe(`option ${name} needs a path`);
  });
  it('a denied option is named in the refusal (for audit --suggest)', () => {
    const d = run('rsync --server --sender -vlogDtpre.iLsfxCIvu . /data/', { root, options: { deny: ['-t'] } });
    expect(d).toMatchObject({ verdict: 'deny', code: 'option-denied', options: ['-t'] });
  });
});
