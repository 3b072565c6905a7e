// File writes that survive interruption: every change is a complete temp
// file in the same directory, fsync'd, then renamed over the target (rename is
// atomic within a filesystem), then the directory is fsync'd. A reader —
// sshd, the gate — sees the old file or the new one, never half of either.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { dirname, basename, join } from 'node:path';

export interface WriteOptions {
  mode: number;
  uid?: number;
  gid?: number;
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write `data` to `path` atomically with the given mode and owner. */
export function atomicWrite(path: string, data: string | Buffer, opts: WriteOptions): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.gatekeeper-tmp-${randomBytes(6).toString('hex')}`);
  // O_EXCL: never follow or reuse something an attacker placed at the temp name.
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (opts.uid !== undefined || opts.gid !== undefined) fchownSync(fd, opts.uid ?? -1, opts.gid ?? -1);
    fchmodSync(fd, opts.mode);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(dir);
}

/** A path of a temp file next to `path` (for validating a candidate in place). */
export function siblingTemp(path: string, tag: string): string {
  return join(dirname(path), `.${basename(path)}.gatekeeper-${tag}-${randomBytes(6).toString('hex')}`);
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

export function readOrNull(path: string): Buffer | null {
  try {
    return readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** mkdir -p, setting mode and owner on the directories it creates. */
export function ensureDir(path: string, mode: number, uid = 0, gid = 0): string[] {
  const created: string[] = [];
  const missing: string[] = [];
  for (let p = path; lstatOrNull(p) === null; p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    mkdirSync(p, { mode });
    statSync(p); // throws if something odd happened
    // mkdir's mode is filtered by the umask; chmod sets it exactly.
    lchownSafe(p, uid, gid);
    chmodExact(p, mode);
    created.push(p);
  }
  return created;
}

function lchownSafe(p: string, uid: number, gid: number): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, uid, gid);
  } finally {
    closeSync(fd);
  }
}

function chmodExact(p: string, mode: number): void {
  const fd = openSync(p, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

export { chmodExact, lchownSafe as chownDir };

/**
 * An exclusive lock file (O_EXCL) against two installs at once. A lock whose
 * pid is gone is stale and taken over; a live one refuses.
 */
export function acquireLock(path: string): () => void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readOrNull(path)?.toString('utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && pidAlive(holder)) {
        throw new Error(`another gatekeeper install/uninstall is running (pid ${holder}, lock ${path})`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not take the lock ${path}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
