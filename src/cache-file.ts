// Writing into root's cache directory (the gate's validated policies, its
// code cache, the rsync --confine-root answer): atomically, so a reader sees
// the old file or the new one, and best effort, since a cache that cannot be
// written only costs the next connection the full work.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';

/** Write `data` to `path` in `dir` (created 0700), 0600, via a rename; false when it could not. */
export function writeCacheFile(dir: string, path: string, data: string | Uint8Array): boolean {
  try {
    mkdirSync(dir, { mode: 0o700, recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, path);
    return true;
  } catch {
    return false;
  }
}
