// What decide() builds: the argv that runs, and the reason for every refusal.
import { beforeAll, describe, expect, it } from 'vitest';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { realFs } from '../../src/facts.js';
import type { Facts } from '../../src/decide.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { policy, useTree } from '../helpers/policy.js';

const tree = useTree();
let root: string;
beforeAll(() => {
  root = tree.root();
});

const session = (cmd: string | null, addr = '192.0.2.10'): Session => ({ originalCommand: cmd, client: { addr, port: 40000 }, server: null, user: 'root', userAuthFile: null });
const facts = (confine = true): Facts => ({ fs: realFs, confineRootSupported: confine });
const run = (cmd: string | null, input: PolicyInput, f = facts()) => evaluate(session(cmd), policy(input), f);
const PULL = 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . ';
const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu . ';

describe('the rebuilt argv', () => {
  it('whole-system pull with root /: the policy rsync, -- before ., paths from /', () => {
    const d = run(`${PULL}/`, { rsync: '/usr/local/bin/rsync' });
    expect(d).toMatchObject({ verdict: 'allow', cwd: '/', argv: ['/usr/local/bin/rsync', '--server', '--sender', '-vlogDtprxze.iLsfxCIvu', '--numeric-ids', '--', '.', './'] });
  });
  it('a restricted root: paths relative to it, --confine-root forced', () => {
    const d = run(`${PULL}/data/file.c /a\\ b/`, { root });
    expect(d).toMatchObject({ verdict: 'allow', cwd: root });
    if (d.verdict !== 'allow') return;
    expect(d.argv.slice(-5)).toEqual([`--confine-root=${root}`, '--', '.', 'data/file.c', 'a b/']);
  });
  it('an absolute path already inside root is accepted as itself', () => {
    const d = run(`${PULL}${root}/data/`, { root });
    expect(d).toMatchObject({ verdict: 'allow', cwd: `${root}/data` });
    expect(d.verdict === 'allow' && d.argv.at(-1)).toBe('./');
  });
  it('a pull starts rsync inside the checked source directories (pinned), naming only what is below', () => {
    const file = run(`${PULL}/inlink/file.c`, { root });
    expect(file).toMatchObject({ verdict: 'allow', cwd: `${root}/data` });
    expect(file.verdict === 'allow' && file.argv.slice(-3)).toEqual(['--', '.', 'file.c']);
    const two = run(`${PULL}/data/file.c /data/other.c`, { root });
    expect(two).toMatchObject({ cwd: `${root}/data`, argv: expect.arrayContaining(['file.c', 'other.c']) });
    const glob = run(`${PULL}/data/*.c`, { root });
    expect(glob).toMatchObject({ cwd: `${root}/data` });
    expect(glob.verdict === 'allow' && glob.argv.at(-1)).toBe('*.c');
    // -R transmits the directory part: no pinning, names stay as given.
    const rel = run('rsync --server --sender -vlogDtprRe.iLsfxCIvu . /data/./file.c', { root });
    expect(rel).toMatchObject({ cwd: root });
    expect(rel.verdict === 'allow' && rel.argv.at(-1)).toBe('data/./file.c');
    // A remote --files-from list stays relative to root.
    const ff = run('rsync --server --sender -vlogDtpre.iLsfxCIvu --files-from=list . /data/', { root });
    expect(ff.verdict === 'allow' && ff.argv).toContain(`--files-from=${root}/list`);
  });
  it('a push starts rsync inside the checked destination directory, naming only what is below', () => {
    const w = { root, access: 'write-only' } as const;
    const tail = (d: ReturnType<typeof run>) => (d.verdict === 'allow' ? d.argv.slice(-3) : d);
    // A new file in an existing directory (reached through a symlink): pinned to the directory it resolves to.
    const file = run(`${PUSH}/inlink/new.txt`, w);
    expect(file).toMatchObject({ verdict: 'allow', cwd: `${root}/data` });
    expect(tail(file)).toEqual(['--', '.', 'new.txt']);
    // An existing file is replaced by name, from its directory.
    expect(run(`${PUSH}/data/file.c`, w)).toMatchObject({ cwd: `${root}/data` });
    expect(tail(run(`${PUSH}/data/file.c`, w))).toEqual(['--', '.', 'file.c']);
    // An existing directory, with or without "/": rsync receives into it.
    for (const dest of ['/dst/', '/dst', 'dst/.']) {
      const d = run(`${PUSH}${dest}`, w);
      expect(d, dest).toMatchObject({ verdict: 'allow', cwd: `${root}/dst` });
      expect(tail(d), dest).toEqual(['--', '.', '.']);
    }
    // A directory rsync will create keeps its "/"; a leading "-" stays a path.
    expect(tail(run(`${PUSH}/dst/new/`, w))).toEqual(['--', '.', 'new/']);
    expect(run(`${PUSH}/dst/new/`, w)).toMatchObject({ cwd: `${root}/dst` });
    expect(tail(run(`${PUSH}/dst/-x`, w))).toEqual(['--', '.', './-x']);
    // The root itself.
    expect(run(`${PUSH}/`, w)).toMatchObject({ verdict: 'allow', cwd: root });
    // A missing parent (rsync --mkpath creates it): not pinned, named from root as before.
    const deep = run(`${PUSH}/dst/a/b/c.txt`, w);
    expect(deep).toMatchObject({ verdict: 'allow', cwd: root });
    expect(tail(deep)).toEqual(['--', '.', 'dst/a/b/c.txt']);
  });
  it('a push\'s relative basis, backup, temp and partial directories are checked from the destination directory', () => {
    const w = { root, access: 'read-write', overwrite: true } as const;
    symlinkSync(tree.outside(), join(root, 'bk', 'out'));
    try {
      // root/out does not exist (inside), but rsync would take bk/out: outside.
      for (const opt of ['--backup-dir=out', '--link-dest=out', '--temp-dir=out', '--partial-dir=out', '--compare-dest=out/x']) {
        const d = run(`rsync --server -vlogDtpre.iLsfxCIvu ${opt} . /bk/`, w);
        expect(d, opt).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
        expect(d.verdict === 'deny' && d.reason, opt).toMatch(/from the destination directory/);
      }
      // The same names from a destination where they stay inside are fine, and keep their meaning:
      // rsync gets them resolved from the destination directory (a relative --partial-dir stays relative).
      const ok = run('rsync --server -vlogDtpre.iLsfxCIvu --backup-dir=old --temp-dir=tmp --partial-dir=.p . /dst/', w);
      expect(ok).toMatchObject({ verdict: 'allow', cwd: `${root}/dst` });
      expect(ok.verdict === 'allow' && ok.argv).toEqual(expect.arrayContaining([`--backup-dir=${root}/dst/old`, `--temp-dir=${root}/dst/tmp`, '--partial-dir=.p']));
    } finally {
      rmSync(join(root, 'bk', 'out'));
    }
  });
  it('a pinned push names a root-relative batch file from root', () => {
    const d = run('rsync --server -vlogDtpre.iLsfxCIvu --only-write-batch=batch . /dst/', { root, access: 'write-only', options: { allow: ['--only-write-batch'] } });
    expect(d).toMatchObject({ verdict: 'allow', cwd: `${root}/dst` });
    expect(d.verdict === 'allow' && d.argv).toContain(`--only-write-batch=${root}/batch`);
  });
  it('with root / a push is not pinned: nothing can lead out of /', () => {
    const d = run(`${PUSH}/tmp/x`, { access: 'write-only' });
    expect(d).toMatchObject({ verdict: 'allow', cwd: '/' });
    expect(d.verdict === 'allow' && d.argv.at(-1)).toBe('tmp/x');
  });
  it('a push gets --drop-D under a restricted root, and no --drop-D without rsync support', () => {
    const d = run(`${PUSH}/dst/`, { root, access: 'write-only' });
    expect(d.verdict === 'allow' && d.argv).toContain('--drop-D');
    const old = run(`${PUSH}/dst/`, { root, access: 'write-only' }, facts(false));
    expect(old.verdict).toBe('allow');
    expect(old.verdict === 'allow' && old.argv.filter((a) => a.startsWith('--confine-root') || a === '--drop-D')).toEqual([]);
  });
  it('forced options: --munge-links, --ignore-existing, --log-file from transferLog', () => {
    const d = run(`${PUSH}/dst/`, { root, access: 'write-only', mungeLinks: true, overwrite: false, transferLog: '/var/log/gatekeeper/rsync.log' });
    expect(d.verdict === 'allow' && d.argv).toEqual(expect.arrayContaining(['--munge-links', '--ignore-existing', '--log-file=/var/log/gatekeeper/rsync.log']));
  });
  it('path-valued options are mapped into root', () => {
    const d = run(`rsync --server -vlogDtpre.iLsfxCIvu --temp-dir /bk --link-dest=/bk . /dst/`, { root, access: 'write-only' });
    expect(d.verdict === 'allow' && d.argv).toEqual(expect.arrayContaining([`--temp-dir=${root}/bk`, `--link-dest=${root}/bk`]));
  });
  it('daemon over ssh runs with the policy rsyncd.conf', () => {
    const d = run('rsync --server --daemon .', { daemon: { config: '/etc/gatekeeper/rsyncd.conf' } });
    expect(d).toMatchObject({ verdict: 'allow', argv: ['/usr/bin/rsync', '--server', '--daemon', '--config=/etc/gatekeeper/rsyncd.conf', '.'] });
  });
  it('the connectivity check runs nothing', () => {
    expect(run('true', {})).toMatchObject({ verdict: 'allow', argv: [] });
    expect(run('true', { allowTrue: false }).verdict).toBe('deny');
  });
});

describe('refusals say what to change', () => {
  const cases: [string, string | null, PolicyInput, string, RegExp][] = [
    ['no command (a shell)', null, {}, 'shell', /interactive shell/],
    ['push to read-only', `${PUSH}/dst/`, {}, 'access', /read-only/],
    ['pull from write-only', `${PULL}/`, { access: 'write-only' }, 'access', /write-only/],
    ['--delete without delete: true', `rsync --server -v --delete . /dst/`, { access: 'write-only' }, 'delete-refused', /delete: true/],
    ['an unusual option not allowed', `rsync --server --sender -v --only-write-batch=X . /`, {}, 'option-not-allowed', /options\.allow/],
    ['an option the policy denies', `${PULL}/`, { options: { deny: ['-z'] } }, 'option-denied', /options\.deny/],
    ['the long twin of a denied short option', `rsync --server --sender -v --numeric-ids . /`, { options: { deny: ['--numeric-ids'] } }, 'option-denied', /numeric-ids/],
    ['client outside "from"', `${PULL}/`, { from: ['198.51.100.0/24'] }, 'from', /192\.0\.2\.10.*from/],
    ['daemon call to a non-daemon policy', 'rsync --server --daemon .', {}, 'always-refused', /daemon policy/],
    ['rsync call to a daemon policy', `${PULL}/`, { daemon: { config: '/etc/rsyncd.conf' } }, 'daemon-only', /daemon policy/],
    ['.. in a path', `${PULL}/data/../..`, {}, 'path-outside-root', /"\.\."/],
    ['a glob whose matches leave root', `${PULL}/out*/secret`, { root: 'ROOT' }, 'path-outside-root', /wildcard matches/],
    ['a glob matching .. at the top of root', `${PULL}/.*`, { root: 'ROOT' }, 'path-outside-root', /wildcard/],
    ['--files-from outside root', `rsync --server --sender -v --files-from=/outlink/secret . /`, { root: 'ROOT' }, 'path-outside-root', /outside the policy root/],
  ];
  it.each(cases)('%s', (_name, cmd, input, code, reason) => {
    const p = { ...input } as PolicyInput;
    if (p.root === 'ROOT') p.root = root;
    const d = run(cmd, p);
    expect(d.verdict).toBe('deny');
    if (d.verdict === 'deny') {
      expect(d.code).toBe(code);
      expect(d.reason).toMatch(reason);
    }
  });
  it('collects every waivable refusal, so audit can suggest them all', () => {
    const d = run('rsync --server -v --delete --only-write-batch=X . /dst/', { access: 'write-only' });
    expect(d.verdict === 'deny' && d.options).toEqual(['--delete', '--only-write-batch']);
  });
});

describe('policy widening and permissive mode', () => {
  it('options.allow lifts an unusual option and a link-following one', () => {
    expect(run(`rsync --server --sender -v --only-write-batch=X . /`, { options: { allow: ['--only-write-batch'] } }).verdict).toBe('allow');
    expect(run(`rsync --server --sender -vL . /data`, { root, options: { allow: ['-L'] } }).verdict).toBe('allow');
  });
  it('permissive runs what it would refuse, and says so', () => {
    const d = run(`${PUSH}/dst/`, { root, enforce: false });
    expect(d.verdict).toBe('allow');
    expect(d.verdict === 'allow' && d.waived.map((w) => w.code)).toEqual(['access']);
  });
  it('permissive never waives the always-refused list, shell syntax, or escapes from root', () => {
    expect(run(`rsync --server --sender -v --log-file=/x . /`, { enforce: false }).verdict).toBe('deny');
    expect(run(`${PULL}/; id`, { enforce: false }).verdict).toBe('deny');
    expect(run(`${PULL}/outlink/secret`, { root, enforce: false }).verdict).toBe('deny');
  });
  it('from accepts an address in a CIDR, v4 and v6', () => {
    expect(run(`${PULL}/`, { from: ['192.0.2.0/24'] }).verdict).toBe('allow');
    expect(evaluate(session(`${PULL}/`, '2001:db8::5'), policy({ from: ['2001:db8::/32'] }), facts()).verdict).toBe('allow');
  });
});

describe('a sibling whose name extends root\'s is outside (root …/root, sibling …/root2, reached by the link twinlink)', () => {
  // A containment check comparing as strings without the "/" after root
  // (startsWith(root) instead of startsWith(root + "/")) takes …/root2 for
  // root itself: every case here is then allowed. With rsync lacking
  // --confine-root (facts(false)) nothing else would stop it.
  const twin = () => tree.twin();
  const cases: [string, string, PolicyInput['access']][] = [
    ['a pull of a file through the link', `${PULL}/twinlink/secret`, 'read-only'],
    ['a pull of the directory through the link', `${PULL}twinlink/`, 'read-only'],
    ['a pull of the link itself, without "/"', `${PULL}twinlink`, 'read-only'],
    ['a wildcard matching the link', `${PULL}/twin*/secret`, 'read-only'],
    ['a push into the link', `${PUSH}/twinlink/`, 'write-only'],
    ['a push of a new file under the link', `${PUSH}/twinlink/new.txt`, 'write-only'],
    ['a push of a new name two levels under the link', `${PUSH}/twinlink/a/b.txt`, 'write-only'],
    ['--files-from through the link', 'rsync --server --sender -v --files-from=/twinlink/list . /data/', 'read-only'],
    ['--temp-dir through the link', 'rsync --server -vlogDtpre.iLsfxCIvu --temp-dir=/twinlink . /dst/', 'write-only'],
    ['--link-dest relative through the link', 'rsync --server -vlogDtpre.iLsfxCIvu --link-dest=twinlink . /', 'write-only'],
  ];
  it.each(cases)('%s: refused, naming the sibling', (_name, cmd, access) => {
    for (const confine of [false, true]) {
      const d = run(cmd, { root, access }, facts(confine));
      expect(d, `${cmd} (confine-root ${confine})`).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
      expect(d.verdict === 'deny' && d.reason).toContain(`resolves to ${twin()}`);
    }
  });
  it('a permissive policy waives none of them', () => {
    for (const [, cmd, access] of cases) expect(run(cmd, { root, access, enforce: false }, facts(false)).verdict, cmd).toBe('deny');
  });
});
