// The whole decision, exactly: argv, working directory, reason and the
// options named, for the branches that the broader tests only check by
// verdict. Each case here was written against a mutant of src/decide.ts
// that the other tests let through (npm run mutation): a dropped option
// name, a reason left empty, a wildcard matched without its anchors, a path
// handed to rsync in another spelling.
//
// The filesystem is an in-memory tree with symlinks (resolved as the kernel
// does, components left to right), so every answer is exact.
import { describe, expect, it } from 'vitest';
import { decide, type Decision, type Facts, type FsView } from '../../src/decide.js';
import { policy } from '../helpers/policy.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { parse, session } from '../helpers/decide.js';

const R = '/srv/root';
const O = '/srv/outside';
/** root's sibling whose name extends root's: outside, though it starts with root's name. */
const T = '/srv/root2';

interface Tree {
  dirs: string[];
  files: string[];
  /** Link path -> absolute target. */
  links: Record<string, string>;
  /** Directories whose listing cannot be read. */
  unreadable?: string[];
}

/** A kernel-like FsView over `tree`; `onRealpath` may veto a lookup (a tree changing between calls). */
function memoryFs(tree: Tree, onRealpath: (path: string) => boolean = () => true): FsView {
  const dirs = new Set(['/', ...tree.dirs]);
  const files = new Set(tree.files);
  const links = new Map(Object.entries(tree.links));
  const resolve = (path: string, depth: number): string | null => {
    if (!path.startsWith('/') || depth > 40) return null;
    const parts = path.split('/').filter((x) => x !== '' && x !== '.');
    let cur = '';
    for (let i = 0; i < parts.length; i++) {
      if (parts[i] === '..') {
        cur = cur.slice(0, cur.lastIndexOf('/'));
        continue;
      }
      const next = `${cur}/${parts[i]}`;
      const target = links.get(next);
      if (target !== undefined) return resolve([target, ...parts.slice(i + 1)].join('/'), depth + 1);
      if (!dirs.has(next) && !(files.has(next) && i === parts.length - 1)) return null;
      cur = next;
    }
    return cur || '/';
  };
  const names = (dir: string) => [...dirs, ...files, ...links.keys()].filter((p) => p !== '/' && p.slice(0, p.lastIndexOf('/')) === dir).map((p) => p.slice(dir.length + 1));
  return {
    realpath: (path) => (onRealpath(path) ? resolve(path, 0) : null),
    readdir(path) {
      const real = resolve(path, 0);
      if (real === null || !dirs.has(real) || tree.unreadable?.includes(real)) return null;
      return names(real === '/' ? '' : real);
    },
    isDirectory: (path) => {
      const real = resolve(path, 0);
      return real !== null && dirs.has(real);
    },
  };
}

const TREE: Tree = {
  dirs: ['/srv', R, `${R}/data`, `${R}/data/sub`, `${R}/dst`, `${R}/g`, `${R}/noread`, O, T, `${T}/d`],
  files: [`${R}/data/file.c`, `${R}/g/x[1`, `${R}/g/?`, `${R}/g/a.x`, `${R}/g/plain`, `${O}/secret`, `${T}/secret`],
  links: {
    [`${R}/twin`]: T,
    [`${R}/twinfile`]: `${T}/secret`,
    [`${R}/dst/tw`]: T,
    [`${R}/inlink`]: `${R}/data`,
    [`${R}/outlink`]: O,
    [`${R}/dsta`]: O,
    // In g, every name a broken wildcard would match in place of the right one points out.
    [`${R}/g/xy`]: O,
    [`${R}/g/\\a`]: O,
    [`${R}/g/ab`]: O,
    [`${R}/g/xq`]: O,
    [`${R}/g/a\nb`]: O,
    [`${R}/g/q*`]: O,
    [`${R}/noread/lnk`]: O,
  },
  unreadable: [`${R}/noread`],
};
const fs = memoryFs(TREE);

const accounts: Facts['accounts'] = { user: (n) => (n === 'root' ? 0 : n === 'backup' ? 34 : null), group: (n) => (n === 'root' ? 0 : n === 'backup' ? 34 : null) };
const run = (command: string, input: PolicyInput = {}, facts: Partial<Facts> = {}): Decision =>
  decide(session, parse(command), policy({ root: R, ...input }), { fs, confineRootSupported: false, accounts, ...facts });
const PULL = 'rsync --server --sender -vlogDtpre.iLsfxCIvu';
const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu';
const RSYNC = '/usr/bin/rsync';

describe('the connectivity check and daemon calls', () => {
  it('"true": nothing runs, from /, said so', () => {
    expect(decide(session, { kind: 'true' }, policy({ root: R }), { fs, confineRootSupported: false })).toEqual({
      verdict: 'allow',
      argv: [],
      cwd: '/',
      reason: 'allowed: connectivity check "true": nothing runs',
      waived: [],
    });
  });
  it('a daemon call to a policy without a daemon block names --daemon', () => {
    expect(run('rsync --server --daemon .')).toMatchObject({ verdict: 'deny', code: 'always-refused', options: ['--daemon'], argv: null });
  });
  it('a daemon policy runs rsync --daemon from / with its config', () => {
    expect(run('rsync --server --daemon .', { daemon: { config: '/etc/gk-rsyncd.conf' } })).toEqual({
      verdict: 'allow',
      argv: [RSYNC, '--server', '--daemon', '--config=/etc/gk-rsyncd.conf', '.'],
      cwd: '/',
      reason: "allowed: daemon over ssh with the policy's rsyncd.conf",
      waived: [],
    });
  });
});

describe('reasons and the options they name', () => {
  it('an allowed pull and push say which they are', () => {
    expect(run(`${PULL} . data/`)).toMatchObject({ verdict: 'allow', reason: 'allowed: pull (the server sends)', waived: [] });
    expect(run(`${PUSH} . dst/`, { access: 'write-only' })).toMatchObject({ verdict: 'allow', reason: 'allowed: push (the server receives)', waived: [] });
  });
  it('several refusals: the first, then "(and N more: ...; ...)", every option named once', () => {
    const d = run(`${PUSH} --delete --delete-after --bwlimit=1 . data/`, { access: 'write-only', options: { deny: ['--bwlimit'] } });
    expect(d).toMatchObject({ verdict: 'deny', code: 'delete-refused', argv: expect.arrayContaining(['--delete']) });
    if (d.verdict !== 'deny') return;
    expect(d.options).toEqual(['--delete', '--delete-after', '--bwlimit']);
    expect(d.reason).toMatch(/^option --delete is refused: .* \(and 2 more: option --delete-after is refused: [^;]*; [^;]*; option --bwlimit is refused: the policy lists it in options\.deny\)$/);
  });
  it('a refusal without options names none (no empty list)', () => {
    const d = run(`${PUSH} . dst/`);
    expect(d).toMatchObject({ verdict: 'deny', code: 'access' });
    expect(d).not.toHaveProperty('options');
  });
  it('a permissive policy runs it and says what it waived', () => {
    const d = run(`${PUSH} . dst/`, { enforce: false });
    expect(d).toMatchObject({ verdict: 'allow', reason: 'allowed by a permissive policy (enforce: false): push (the server receives)', waived: [{ code: 'access' }] });
  });
  it('a short letter and its long twin are one option to options.deny and options.allow', () => {
    expect(run(`rsync --server --sender -vlogDpre.iLsfxCIvu --times . data/`, { options: { deny: ['-t'] } })).toMatchObject({ verdict: 'deny', code: 'option-denied', options: ['--times'] });
    expect(run(`rsync --server --sender -vt . data/`, { options: { deny: ['--times'] } })).toMatchObject({ verdict: 'deny', code: 'option-denied', options: ['-t'] });
    expect(run(`${PULL} . data/`, { options: { deny: ['--numeric-ids'] } }).verdict).toBe('allow');
    expect(run(`${PULL} --copy-links . data/`).verdict).toBe('deny');
    expect(run(`${PULL} --copy-links . data/`, { options: { allow: ['-L'] } }).verdict).toBe('allow');
    expect(run('rsync --server --sender -vL . data/', { options: { allow: ['--copy-links'] } }).verdict).toBe('allow');
  });
  it('a missing root is a configuration error naming it', () => {
    expect(run(`${PULL} . data/`, { root: '/srv/nope' })).toEqual({ verdict: 'deny', code: 'config', reason: 'the policy root /srv/nope does not exist', argv: null });
  });
  it('no path at all: rsync is given "."', () => {
    const d = run(`${PULL} .`);
    expect(d.verdict === 'allow' && d.argv.slice(-3)).toEqual(['--', '.', '.']);
  });
});

describe('maps onto root (a push as root gives files the owner the client names)', () => {
  it.each([
    ['--usermap=*:root', '--usermap'],
    ['--groupmap=*:0', '--groupmap'],
    ['--usermap=backup:backup,1000:root', '--usermap'],
  ])('%s is refused, naming %s', (opt, name) => {
    const d = run(`${PUSH} ${opt} . dst/`, { access: 'write-only' });
    expect(d).toMatchObject({ verdict: 'deny', code: 'root-map-refused', options: [name] });
  });
  it('a map onto another account, and other options whose value looks like a map, are not maps', () => {
    expect(run(`${PUSH} --usermap=*:backup --groupmap=*:backup . dst/`, { access: 'write-only' }).verdict).toBe('allow');
    const d = run(`${PUSH} --temp-dir=t:0 . dst/`, { access: 'write-only' });
    expect(d.verdict === 'allow' && d.argv).toContain(`--temp-dir=${R}/dst/t:0`);
  });
});

describe('option paths reach rsync as canonical absolute paths', () => {
  const opts = (command: string, input: PolicyInput = { access: 'write-only' }) => {
    const d = run(command, input);
    if (d.verdict !== 'allow') throw new Error(d.reason);
    return d.argv.filter((a) => /^--(temp|backup|link|files)/.test(a));
  };
  it.each([
    ['--temp-dir=//data', `--temp-dir=${R}/data`],
    ['--temp-dir=/data//', `--temp-dir=${R}/data`],
    ['--temp-dir=/data/.', `--temp-dir=${R}/data`],
    ['--temp-dir=/data/new', `--temp-dir=${R}/data/new`],
    ['--temp-dir=/srv/root', `--temp-dir=${R}`],
  ])('%s: %s', (opt, handed) => {
    expect(opts(`${PUSH} ${opt} . dst/`)).toEqual([handed]);
  });
  it('root "/": absolute values only lose repeated leading slashes; relative ones stay relative', () => {
    expect(opts(`${PUSH} --temp-dir=//var/tmp --backup-dir=bk . /dst/`, { access: 'write-only', root: '/', overwrite: true })).toEqual(['--temp-dir=/var/tmp', '--backup-dir=bk']);
  });
  it('a pull: relative values are resolved from root, whatever directory rsync starts in', () => {
    expect(opts(`${PULL} --files-from=inlink/file.c --temp-dir=data . data/sub/`, { access: 'read-only' })).toEqual([`--files-from=${R}/data/file.c`, `--temp-dir=${R}/data`]);
  });
  it('an unpinned push (its destination\'s parent is missing) checks relative option paths from the destination', () => {
    // dst/a/b/ would be made by --mkpath; "dsta" (a link out) is what a destination
    // misread without its first "/" would name.
    expect(opts(`${PUSH} --temp-dir=t . dst/a/b/`)).toEqual(['--temp-dir=t']);
  });
  it('an option path through a link out is refused, naming the option', () => {
    expect(run(`${PUSH} --temp-dir=/outlink . dst/`, { access: 'write-only' })).toMatchObject({ verdict: 'deny', code: 'path-outside-root', options: ['--temp-dir'] });
    expect(run(`${PUSH} --temp-dir=outlink . ./`, { access: 'write-only' })).toMatchObject({ verdict: 'deny', code: 'path-outside-root', options: ['--temp-dir'] });
    // root/xy does not exist (inside), but from the destination g, xy points out.
    const d = run(`${PUSH} --temp-dir=xy . g/`, { access: 'write-only' });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root', options: ['--temp-dir'] });
    expect(d.verdict === 'deny' && d.reason).toBe(`--temp-dir: "xy" from the destination directory resolves to ${O}, outside the policy root ${R} (a symlink points out)`);
  });
});

describe('positional paths', () => {
  const where = (command: string, input: PolicyInput = { access: 'read-only' }) => {
    const d = run(command, input);
    if (d.verdict !== 'allow') return { refused: d.code };
    return { cwd: d.cwd, paths: d.argv.slice(d.argv.indexOf('--') + 2) };
  };
  it.each([
    ['/', { cwd: R, paths: ['./'] }],
    ['/srv/root/', { cwd: R, paths: ['./'] }],
    ['//data/file.c', { cwd: `${R}/data`, paths: ['file.c'] }],
  ])('%s', (path, expected) => {
    expect(where(`${PULL} . ${path}`)).toEqual(expected);
  });
  it('root "/": paths are handed over relative to /, as spelled', () => {
    expect(where(`${PULL} . /etc/hostname data/x /`, { access: 'read-only', root: '/' })).toEqual({ cwd: '/', paths: ['etc/hostname', 'data/x', './'] });
  });
});

describe('root\'s sibling whose name extends root\'s (/srv/root2) is outside', () => {
  // What a containment check comparing without the "/" after root lets through.
  it.each([
    ['a pull through the link', `${PULL} . twin/secret`, {}, `"twin/secret": resolves to ${T}/secret, outside the policy root ${R} (a symlink points out)`],
    ['a pull of the link, pinned', `${PULL} . /twin/`, {}, `"/twin/": resolves to ${T}, outside the policy root ${R} (a symlink points out)`],
    ['a file link into it', `${PULL} . twinfile`, {}, `"twinfile": resolves to ${T}/secret, outside the policy root ${R} (a symlink points out)`],
    ['a wildcard matching the link', `${PULL} . tw?n/secret`, {}, `the wildcard matches ${R}/twin/secret, which resolves to ${T}/secret, outside the policy root ${R} (a symlink points out)`],
    ['a push into it', `${PUSH} . twin/`, { access: 'write-only' }, `"twin/": resolves to ${T}, outside the policy root ${R} (a symlink points out)`],
    ['a push of a new name in it', `${PUSH} . twin/d/new`, { access: 'write-only' }, `"twin/d/new": resolves to ${T}/d, outside the policy root ${R} (a symlink points out)`],
    ['an option path through the link', `${PUSH} --temp-dir=/twin/d . dst/`, { access: 'write-only' }, `--temp-dir: resolves to ${T}/d, outside the policy root ${R} (a symlink points out)`],
    // Resolved from root first (the reason does not name the option there, unlike an absolute value's).
    ['a relative option path', `${PUSH} --link-dest=twin . ./`, { access: 'write-only' }, `resolves to ${T}, outside the policy root ${R} (a symlink points out)`],
    ['a relative option path from the destination', `${PUSH} --link-dest=tw . dst/`, { access: 'write-only' }, `--link-dest: "tw" from the destination directory resolves to ${T}, outside the policy root ${R} (a symlink points out)`],
  ] as [string, string, PolicyInput, string][])('%s', (_name, command, input, reason) => {
    for (const confineRootSupported of [false, true]) {
      expect(run(command, input, { confineRootSupported })).toMatchObject({ verdict: 'deny', code: 'path-outside-root', reason });
    }
  });
  it('spelled absolutely, /srv/root2 is a name inside root (root/srv/root2), not the sibling', () => {
    const d = run(`${PULL} . ${T}/secret`);
    expect(d).toMatchObject({ verdict: 'allow', cwd: R });
    expect(d.verdict === 'allow' && d.argv.at(-1)).toBe('srv/root2/secret');
  });
});

describe('wildcards: every match must stay inside root', () => {
  const verdict = (pattern: string) => {
    const d = run(`${PULL} . ${pattern}`);
    return d.verdict === 'allow' ? 'allow' : d.code;
  };
  it.each([
    // pattern, verdict, why it would differ with a broken matcher
    ['g/x[*', 'allow', '"[" without "]" is a literal "[" (x[1), not "any character" (xy points out)'],
    ['g/x[]q]', 'path-outside-root', 'a bracket expression that starts with "]" runs to the next "]": one character (xq points out)'],
    ['g/a*', 'path-outside-root', 'a* matches ab, which points out'],
    ['g/p*', 'allow', 'p* matches plain only: not ab (no leading anchor) nor everything'],
    ['g/*lain', 'allow', '*lain matches plain only (with the end anchor)'],
    ['g/a.*', 'allow', 'a "." in a pattern is a dot (a.x), not any character (ab points out)'],
    ['g/a?b', 'path-outside-root', '"?" matches one character, a newline too (a\\nb points out)'],
    ["'g/\\?'", 'allow', '"\\?" is a literal "?" (the file "?"), not a backslash and any character ("\\a" points out)'],
    ["'g/q\\*'", 'path-outside-root', '"\\*" is a literal "*": it matches the name q*, which points out'],
    ["'g/pl*\\'", 'allow', 'a trailing backslash is a literal backslash: nothing matches, g is inside'],
    ['noread/lnk*', 'allow', 'an unreadable directory lists nothing: the directory it is in (noread) is inside'],
    ['outlink/*', 'path-outside-root', 'no match either, but the directory it would be in is outside'],
    ['data/*/file.c', 'allow', 'a wildcard in a directory part: data/sub/file.c does not exist, data is inside'],
  ])('%s: %s (%s)', (pattern, expected) => {
    expect(verdict(pattern)).toBe(expected);
  });
  it('matches beyond the limit are refused, the limit itself is not', () => {
    const wide = (n: number): Tree => ({ dirs: [...TREE.dirs, `${R}/wide`], files: Array.from({ length: n }, (_, k) => `${R}/wide/f${k}`), links: {} });
    // "." and ".." match "*" too: n files give n + 2 matches.
    const at = (n: number) => decide(session, parse(`${PULL} . wide/*`), policy({ root: R }), { fs: memoryFs(wide(n)), confineRootSupported: false });
    expect(at(9998).verdict).toBe('allow');
    const d = at(9999);
    expect(d).toMatchObject({ verdict: 'deny', code: 'glob-too-broad' });
    expect(d.verdict === 'deny' && d.reason).toBe(`the wildcard in "${R}/wide/*" matches more than 10000 paths; name them more precisely`);
  });
  it('root\'s own name is no pattern', () => {
    const odd = '/srv/r[o]ot';
    const tree: Tree = { dirs: ['/srv', odd, `${odd}/d`, '/srv/rxot'], files: [`${odd}/d/f`], links: { '/srv/rxot/d': O } };
    const d = decide(session, parse(`${PULL} . d/*`), policy({ root: odd }), { fs: memoryFs(tree), confineRootSupported: false });
    expect(d).toMatchObject({ verdict: 'allow', cwd: `${odd}/d` });
  });
});

describe('a tree that changes during the check fails closed', () => {
  it('when the whole tree has gone by the time a path is resolved: refused, "no part of it exists"', () => {
    let calls = 0;
    const vanishing = memoryFs(TREE, () => calls++ === 0);
    const d = decide(session, parse(`${PULL} . data/new`), policy({ root: R }), { fs: vanishing, confineRootSupported: false });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(d.verdict === 'deny' && d.reason).toMatch(/no part of it exists/);
  });
});
