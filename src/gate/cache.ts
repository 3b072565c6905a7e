// The gate's cache: its compiled code and validated policies, kept in a
// directory only root can enter. Only root, because what is in it is used as
// found: V8 runs cached code, and the gate takes a cached policy as already
// validated. A cache that is not exactly root's (another owner, group or
// world access, an untrusted parent) is not used, and the gate simply does
// the full work.
import { lstatSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { trustProblem } from '../policy/trust.js';

import { CACHE_DIR } from '../paths.js';

export { CACHE_DIR };

/** The gate's V8 code cache (code-cache.ts), inside the cache directory. */
export const codeCacheDir = (cacheDir: string) => `${cacheDir}/code`;

let checked: string | null | undefined;

/** The cache directory when this process may use it, created on first use; null otherwise. */
export function trustedCacheDir(): string | null {
  if (checked === undefined) checked = process.getuid?.() === 0 && usableCacheDir(CACHE_DIR) ? CACHE_DIR : null;
  return checked;
}

/** Create dir (0700) when missing; true when it is a directory only root can enter, on a root-only chain. */
export function usableCacheDir(dir: string): boolean {
  try {
    let st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st) {
      try {
        mkdirSync(dir, { mode: 0o700 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
      }
      st = lstatSync(dir);
    }
    if (!st.isDirectory() || st.uid !== 0 || (st.mode & 0o077) !== 0) return false;
  } catch {
    return false;
  }
  return trustProblem(dir) === null;
}

/**
 * Every build of the gate (and every Node version) adds a code cache file,
 * and nothing else removes the old ones: keep the newest `keep` when there
 * are more than twice that. Called when a new policy file is first
 * validated, which is rare where nothing changes.
 */
export function pruneCompiledCode(cacheDir: string, keep = 32): void {
  const files: { path: string; mtime: number }[] = [];
  const root = codeCacheDir(cacheDir);
  try {
    for (const name of readdirSync(root)) {
      const path = `${root}/${name}`;
      files.push({ path, mtime: statSync(path).mtimeMs });
    }
  } catch {
    return; // no code cache (yet), or a file gone meanwhile: next time
  }
  if (files.length <= 2 * keep) return;
  files.sort((a, b) => b.mtime - a.mtime);
  for (const f of files.slice(keep)) {
    try {
      unlinkSync(f.path);
    } catch {
      /* gone already */
    }
  }
}
