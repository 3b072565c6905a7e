// Where rsync starts and what it is told, for every shape of source and
// destination path: pinning rewrites the client's paths relative to the
// directory rsync starts in, and a slip there changes what is transferred
// (a directory's contents instead of the directory, "." for a leaf) or where
// a name lands. The tree is an in-memory FsView, so each case is exact.
import { describe, expect, it } from 'vitest';
import { decide, type FsView } from '../../src/decide.js';
import { policy } from '../helpers/policy.js';
import { parse, session } from '../helpers/decide.js';

const R = '/srv/root';
const DIRS = ['', '/data', '/data/sub', '/dst', '/x', '/x/y', '/-d'];
const FILES = ['/data/file.c', '/data/-x', '/dst/file.c', '/x/y/z', '/top.txt'];
const LINKS: Record<string, string> = { '/inlink': '/data' };

const fs: FsView = {
  realpath(path) {
    if (path !== R && !path.startsWith(`${R}/`)) return null;
    let rel = path.slice(R.length);
    for (const [from, to] of Object.entries(LINKS)) if (rel === from || rel.startsWith(`${from}/`)) rel = to + rel.slice(from.length);
    return DIRS.includes(rel) || FILES.includes(rel) ? R + rel : null;
  },
  readdir: () => null,
  isDirectory: (path) => path.startsWith(R) && DIRS.includes(path.slice(R.length)),
};

const where = (command: string, access: 'read-only' | 'write-only') => {
  const d = decide(session, parse(command), policy({ root: R, access }), { fs, confineRootSupported: false });
  if (d.verdict !== 'allow') return { refused: d.reason };
  const dash = d.argv.indexOf('--');
  return { cwd: d.cwd.slice(R.length) || '/', paths: d.argv.slice(dash + 2) };
};

describe('a pull starts in the deepest directory common to its sources', () => {
  const PULL = 'rsync --server --sender -vlogDtpre.iLsfxCIvu . ';
  it.each([
    ['.', '/', ['.']],
    ['./', '/', ['./']],
    ['/', '/', ['./']],
    ['data', '/', ['data']],
    ['data/', '/data', ['./']],
    ['data/.', '/data', ['.']],
    ['data//', '/data', ['./']],
    ['data/file.c', '/data', ['file.c']],
    ['/data/file.c', '/data', ['file.c']],
    ['inlink/file.c', '/data', ['file.c']],
    ['data/sub', '/data', ['sub']],
    ['data/sub/', '/data/sub', ['./']],
    ['x/y/z', '/x/y', ['z']],
    ['top.txt', '/', ['top.txt']],
    ['data/-x', '/data', ['./-x']],
    ['/-d/', '/-d', ['./']],
    ['data/file.c data/sub/', '/data', ['file.c', 'sub/']],
    ['data/file.c data/sub/.', '/data', ['file.c', 'sub/.']],
    ['data/sub/ data/file.c', '/data', ['sub/', 'file.c']],
    ['data/file.c x/y/z', '/', ['data/file.c', 'x/y/z']],
    ['data/sub/. x/', '/', ['data/sub/.', 'x/']],
    ['x/y/ x/y/z', '/x/y', ['./', 'z']],
    ['data/ .', '/', ['data/', '.']],
    // Not pinned: a wildcard in a directory part, a missing directory; rsync starts in root.
    ['d*/file.c', '/', ['d*/file.c']],
    ['data/nope/f', '/', ['data/nope/f']],
    // An absolute path spelled with the root itself is that path, not root/srv/root/...
    ['/srv/root/data/file.c', '/data', ['file.c']],
    ['/srv/root', '/', ['.']],
  ])('%s: in %s, sends %j', (paths, cwd, sent) => {
    expect(where(`${PULL}${paths}`, 'read-only')).toEqual({ cwd, paths: sent });
  });
  it('-R (the directory part is transmitted): not pinned', () => {
    expect(where('rsync --server --sender -vlogDtpRe.iLsfxCIvu . data/file.c', 'read-only')).toEqual({ cwd: '/', paths: ['data/file.c'] });
  });
});

describe('a push starts in its destination directory', () => {
  const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu . ';
  it.each([
    ['.', '/', '.'],
    ['./', '/', '.'],
    ['/', '/', '.'],
    ['dst', '/dst', '.'],
    ['dst/', '/dst', '.'],
    ['dst/.', '/dst', '.'],
    ['inlink', '/data', '.'],
    ['dst/new', '/dst', 'new'],
    ['dst/new/', '/dst', 'new/'],
    ['dst/new/.', '/dst', 'new/'],
    ['dst/file.c', '/dst', 'file.c'],
    ['new', '/', 'new'],
    ['new/', '/', 'new/'],
    ['top.txt', '/', 'top.txt'],
    ['dst/-n', '/dst', './-n'],
    ['/-d', '/-d', '.'],
    ['/-n', '/', './-n'],
    ['x/y/z', '/x/y', 'z'],
    // Not pinned: a missing parent (rsync --mkpath creates it), a parent that is a file, a wildcard.
    ['dst/a/b', '/', 'dst/a/b'],
    ['dst/file.c/x', '/', 'dst/file.c/x'],
    ['dst/*', '/', 'dst/*'],
  ])('%s: in %s, receives into %j', (path, cwd, dest) => {
    expect(where(`${PUSH}${path}`, 'write-only')).toEqual({ cwd, paths: [dest] });
  });
  it('several paths (a push has one destination; rsync refuses more): not pinned', () => {
    expect(where(`${PUSH}dst/ x/`, 'write-only')).toEqual({ cwd: '/', paths: ['dst/', 'x/'] });
  });
});

describe('option paths spelled with the root itself', () => {
  it('--link-dest=/srv/root/dst is root/dst', () => {
    const d = decide(session, parse('rsync --server -vlogDtpre.iLsfxCIvu --link-dest=/srv/root/dst --temp-dir=/srv/root . /dst/'), policy({ root: R, access: 'write-only' }), { fs, confineRootSupported: false });
    expect(d.verdict === 'allow' && d.argv).toEqual(expect.arrayContaining([`--link-dest=${R}/dst`, `--temp-dir=${R}`]));
  });
});

// The option-path race: rsync is handed the directory the gate resolved, so
// a component swapped for a symlink after the check is never followed.
describe('option paths are handed to rsync as resolved, not as spelled', () => {
  const opts = (command: string, access: 'read-only' | 'write-only' = 'write-only') => {
    const d = decide(session, parse(command), policy({ root: R, access }), { fs, confineRootSupported: false });
    if (d.verdict !== 'allow') throw new Error(d.reason);
    return d.argv.filter((a) => /^--[a-z-]+=/.test(a));
  };
  const PUSH = 'rsync --server -vlogDtpre.iLsfxCIvu';
  it.each([
    ['--temp-dir=/inlink', `--temp-dir=${R}/data`],
    ['--temp-dir=/inlink/sub/', `--temp-dir=${R}/data/sub`],
    ['--backup-dir=/inlink/new/deeper', `--backup-dir=${R}/data/new/deeper`],
    ['--link-dest=/srv/root/inlink', `--link-dest=${R}/data`],
    ['--compare-dest=/', `--compare-dest=${R}`],
  ])('absolute %s: %s', (opt, handed) => {
    expect(opts(`${PUSH} ${opt} . /dst/`)).toContain(handed);
  });
  it.each([
    // Relative to the pinned destination directory root/data (through the link).
    ['--temp-dir=sub', `--temp-dir=${R}/data/sub`],
    ['--backup-dir=old', `--backup-dir=${R}/data/old`],
    ['--link-dest=sub/', `--link-dest=${R}/data/sub`],
  ])('relative %s, destination inlink/: %s', (opt, handed) => {
    expect(opts(`${PUSH} ${opt} . inlink/`)).toContain(handed);
  });
  it('a relative --partial-dir stays relative (it names a directory in each file\'s directory)', () => {
    expect(opts(`${PUSH} --partial-dir=.partial . inlink/`)).toContain('--partial-dir=.partial');
  });
  it('a relative option path of an unpinned push stays relative (rsync takes it from a destination not made yet)', () => {
    expect(opts(`${PUSH} --temp-dir=tmp . dst/a/b`)).toContain('--temp-dir=tmp');
  });
  it('a pull\'s --files-from on the server is resolved from root', () => {
    expect(opts('rsync --server --sender -vlogDtpre.iLsfxCIvu --files-from=inlink/file.c --from0 . data/', 'read-only')).toContain(`--files-from=${R}/data/file.c`);
  });
});
