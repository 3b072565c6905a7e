// The filesystem answers decide() needs, from the real machine.
import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { writeCacheFile } from './cache-file.js';
import type { Facts, FsView } from './decide.js';

export const realFs: FsView = {
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return null;
    }
  },
  readdir(path) {
    try {
      return readdirSync(path);
    } catch {
      return null;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  },
};

/**
 * Whether an rsync build knows --confine-root (rsync 3.5+), found by looking
 * for the option's name in the binary: no exec per connection. A wrapper
 * script or an older build answers no.
 */
export function supportsConfineRoot(rsyncPath: string): boolean {
  const needle = Buffer.from('confine-root');
  let fd: number;
  try {
    fd = openSync(rsyncPath, 'r');
  } catch {
    return false;
  }
  try {
    // Unreadable (a directory, EIO ...): "no"; the runner's target check then names the problem.
    return containsNeedle(fd, needle);
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

function containsNeedle(fd: number, needle: Buffer): boolean {
  const chunk = Buffer.alloc(1 << 20);
  let carry = Buffer.alloc(0);
  for (;;) {
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n <= 0) return false;
    const window = Buffer.concat([carry, chunk.subarray(0, n)]);
    if (window.includes(needle)) return true;
    carry = window.subarray(Math.max(0, window.length - needle.length));
  }
}

/**
 * supportsConfineRoot with its answer kept in root's cache directory (the
 * gate's, when usable): reading the binary costs ~1 ms on every connection,
 * a stat ~0.05. The answer is reused only while the file is the same inode
 * with the same size, mtime and ctime, so replacing or upgrading rsync (or
 * repointing a symlink to it) asks again.
 */
export function confineRootSupport(rsyncPath: string, cacheDir: string | null): boolean {
  if (!cacheDir) return supportsConfineRoot(rsyncPath);
  let key: string;
  try {
    const st = statSync(rsyncPath);
    key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return false; // no binary: the runner's target check names the problem
  }
  const dir = `${cacheDir}/rsync`;
  const file = `${dir}/${encodeURIComponent(rsyncPath)}.json`;
  try {
    const e = JSON.parse(readFileSync(file, 'utf8')) as { key?: unknown; confineRoot?: unknown };
    if (e.key === key && typeof e.confineRoot === 'boolean') return e.confineRoot;
  } catch {
    /* not asked yet, or unreadable: ask the binary */
  }
  const confineRoot = supportsConfineRoot(rsyncPath);
  writeCacheFile(dir, file, JSON.stringify({ key, confineRoot }));
  return confineRoot;
}

/**
 * Ids by name from a local account file (/etc/passwd, /etc/group), read only
 * when asked (a --usermap/--groupmap is rare). A name found only through NSS
 * (LDAP ...) is unknown here: decide() then refuses it (fail closed).
 */
export function idsFromFile(file: string): (name: string) => number | null {
  let ids: Map<string, number> | null = null;
  return (name) => {
    if (!ids) {
      ids = new Map();
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        /* unreadable: every name is unknown */
      }
      for (const line of text.split('\n')) {
        const f = line.split(':');
        // The first entry wins, as getpwnam's files backend does.
        if (f.length >= 3 && /^[0-9]+$/.test(f[2]!) && !ids.has(f[0]!)) ids.set(f[0]!, Number(f[2]));
      }
    }
    return ids.get(name) ?? null;
  };
}

/** Facts from the machine, the clock's time included; `cacheDir`: root's cache directory for confineRootSupport, or null. */
export function realFacts(rsyncPath: string, needConfine: boolean, cacheDir: string | null = null): Facts {
  return {
    fs: realFs,
    confineRootSupported: needConfine && confineRootSupport(rsyncPath, cacheDir),
    now: Date.now(),
    accounts: { user: idsFromFile('/etc/passwd'), group: idsFromFile('/etc/group') },
  };
}
