// The trust chain: as root, anything another user can write on the way to a
// policy, a policy directory or the rsync target is a root shell for them
// (they could swap the file or a directory above it). Walk the path as sshd's
// StrictModes does and name the first entry that breaks the chain.
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

const S_ISVTX = 0o1000;

export interface TrustOptions {
  /** Owners that count as trusted (default: root only). */
  trustedUids?: readonly number[];
}

/** A reason the path cannot be trusted, or null when the whole chain is sound. */
export function trustProblem(path: string, opts: TrustOptions = {}): string | null {
  const trusted = opts.trustedUids ?? [0];
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    return `${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (e as Error).message}`;
  }
  // Check the chain of the name as written (its directories decide where a
  // symlink leads) and of the file it resolves to.
  for (const p of real === path ? [path] : [path, real]) {
    const problem = chainProblem(p, trusted);
    if (problem) return problem;
  }
  return null;
}

function chainProblem(path: string, trusted: readonly number[]): string | null {
  let current = path;
  let child: Stats | null = null;
  for (;;) {
    let st: Stats;
    try {
      st = lstatSync(current);
    } catch (e) {
      return `${current}: ${(e as Error).message}`;
    }
    if (!trusted.includes(st.uid)) return `${current} is owned by uid ${st.uid}, not root: another user could replace what it leads to`;
    const writable = (st.mode & 0o022) !== 0;
    if (writable && !st.isSymbolicLink()) {
      // A sticky world-writable directory (like /tmp) is fine above a
      // root-owned entry: nobody else may rename or delete that entry.
      const stickyOk = st.isDirectory() && (st.mode & S_ISVTX) !== 0 && child !== null && trusted.includes(child.uid);
      if (!stickyOk) return `${current} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)}): another user could replace it`;
    }
    if (current === '/') return null;
    child = st;
    current = dirname(current);
  }
}
