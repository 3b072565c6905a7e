// A directory swapped for a symlink between decide()'s two looks at it: the
// path check resolves it inside root, then pinning (starting rsync inside
// the checked directory) resolves it again and finds it outside. decide()
// must refuse rather than start rsync there. A real swap is a race (see
// test/security/symlink-race.test.ts); here an FsView answers "inside" the
// first time and "outside" afterwards, so the re-check is pinned exactly.
import { describe, expect, it } from 'vitest';
import { decide, type FsView } from '../../src/decide.js';
import { policy } from '../helpers/policy.js';
import { parse, session } from '../helpers/decide.js';

const ROOT = '/srv/root';
const OUTSIDE = '/srv/outside';
/** root's sibling whose name extends root's: as outside as OUTSIDE. */
const TWIN = '/srv/root2';

/**
 * An in-memory tree under ROOT: `dirs` and `files` exist (relative to ROOT).
 * `swapped`: a directory that is swapped for a symlink to OUTSIDE right
 * after the path check has resolved it (or something below it) inside, so
 * every later lookup there resolves outside.
 */
function swappingFs(dirs: string[], files: string[], swapped: string | null, target = OUTSIDE): FsView & { lookups: Map<string, number> } {
  const abs = (rel: string) => `${ROOT}/${rel}`;
  const dirSet = new Set([ROOT, ...dirs.map(abs), target]);
  const fileSet = new Set(files.map(abs));
  const at = swapped === null ? null : abs(swapped);
  const below = (path: string) => at !== null && (path === at || path.startsWith(`${at}/`));
  let flipped = false;
  const lookups = new Map<string, number>();
  return {
    lookups,
    realpath(path) {
      lookups.set(path, (lookups.get(path) ?? 0) + 1);
      const exists = dirSet.has(path) || fileSet.has(path);
      if (!below(path)) return exists ? path : null;
      if (!flipped) {
        // The check's first successful resolution there; the swap follows it.
        if (exists) flipped = true;
        return exists ? path : null;
      }
      const moved = target + path.slice(at!.length);
      return dirSet.has(moved) ? moved : null;
    },
    readdir: () => null,
    isDirectory: (path) => dirSet.has(path),
  };
}



const race = /now resolves outside the policy root \/srv\/root \(it changed during the check: a symlink race\?\)/;

describe('a pull whose source directory is swapped after the path check', () => {
  it.each([
    ['a file in it', '/data/file.c'],
    ['its contents', '/data/'],
  ])('%s: refused, rsync does not start there', (_name, path) => {
    const fs = swappingFs(['data'], ['data/file.c'], 'data');
    const d = decide(session, parse(`rsync --server --sender -vlogDtpre.iLsfxCIvu . ${path}`), policy({ root: ROOT }), { fs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(d.verdict === 'deny' && d.reason).toMatch(race);
    // Pinning looked the directory up again (after the path check).
    expect(fs.lookups.get(`${ROOT}/data`)).toBeGreaterThan(0);
  });
  it.each(['/data/file.c', '/data/'])('swapped for a link to root\'s sibling /srv/root2 (%s): refused too', (path) => {
    const fs = swappingFs(['data'], ['data/file.c'], 'data', TWIN);
    const d = decide(session, parse(`rsync --server --sender -vlogDtpre.iLsfxCIvu . ${path}`), policy({ root: ROOT }), { fs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(d.verdict === 'deny' && d.reason).toMatch(race);
  });
  it('without the swap the same pull is pinned inside it', () => {
    const fs = swappingFs(['data'], ['data/file.c'], null);
    const d = decide(session, parse('rsync --server --sender -vlogDtpre.iLsfxCIvu . /data/file.c'), policy({ root: ROOT }), { fs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'allow', cwd: `${ROOT}/data` });
  });
});

describe('a push whose destination directory is swapped after the path check', () => {
  it.each([
    ['into the directory itself', '/dst/', 'dst'],
    ['a new name in it', '/dst/new.txt', 'dst'],
    ['a new directory in it', '/dst/new/', 'dst'],
  ])('%s: refused, rsync does not start there', (_name, path, swapped) => {
    const fs = swappingFs(['dst'], [], swapped);
    const d = decide(session, parse(`rsync --server -vlogDtpre.iLsfxCIvu . ${path}`), policy({ root: ROOT, access: 'write-only' }), { fs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(d.verdict === 'deny' && d.reason).toMatch(race);
  });
  it.each(['/dst/', '/dst/new.txt'])('swapped for a link to root\'s sibling /srv/root2 (%s): refused too', (path) => {
    const fs = swappingFs(['dst'], [], 'dst', TWIN);
    const d = decide(session, parse(`rsync --server -vlogDtpre.iLsfxCIvu . ${path}`), policy({ root: ROOT, access: 'write-only' }), { fs, confineRootSupported: true });
    expect(d).toMatchObject({ verdict: 'deny', code: 'path-outside-root' });
    expect(d.verdict === 'deny' && d.reason).toMatch(race);
  });
  it('without the swap the same pushes are pinned inside it', () => {
    for (const path of ['/dst/', '/dst/new.txt']) {
      const fs = swappingFs(['dst'], [], null);
      const d = decide(session, parse(`rsync --server -vlogDtpre.iLsfxCIvu . ${path}`), policy({ root: ROOT, access: 'write-only' }), { fs, confineRootSupported: true });
      expect(d, path).toMatchObject({ verdict: 'allow', cwd: `${ROOT}/dst` });
    }
  });
});
