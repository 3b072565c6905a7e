// The filesystem answers decide() needs, from the real machine.
import { closeSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';
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

export function realFacts(rsyncPath: string, needConfine: boolean): Facts {
  return { fs: realFs, confineRootSupported: needConfine && supportsConfineRoot(rsyncPath) };
}
