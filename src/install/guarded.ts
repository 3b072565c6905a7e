// Files in an account's own area (its ~/.ssh/authorized_keys), read and
// written as root when the account is not root: every path component is
// hostile, because the account can rename, replace or symlink anything in a
// directory it owns, at any moment, also between two of our system calls.
//
// Node has no openat(2), so we emulate it: each directory component is opened
// with O_DIRECTORY|O_NOFOLLOW *relative to the already-checked directory's
// descriptor* through /proc/self/fd/N/NAME (the magic link resolves to the
// directory we hold, not to whatever the path names now; O_NOFOLLOW refuses a
// symlink as the last component), then fstat'ed: a directory, owned by root
// or the account, not group/world-writable unless sticky. Nothing is ever
// resolved by path twice, so swapping a component after we checked it changes
// nothing about what we opened. The file itself is opened, created
// (O_CREAT|O_EXCL|O_NOFOLLOW temp file), renamed and unlinked the same way,
// through its checked directory's descriptor.
//
// A symbolic link is followed only when it sits in a directory that root
// owns and nobody else can write (only root can have put it there: /home ->
// /data/home, or root's own links); anywhere else it is refused. An existing
// file must be regular and owned by the account, or owned by root and world
// readable (install writes its bytes back into a file the account owns, so it
// must not be anything the account could not read already: that rules out a
// hard link to /etc/shadow too). A refusal is exit 77 with the component named.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { EX_NOPERM, GatekeeperError } from '../exit.js';

/** Whose area a path is in: root and this uid may own its components. */
export interface Account {
  uid: number;
  name: string;
}

export const ROOT: Account = { uid: 0, name: 'root' };

export const unsafe = (m: string) => new GatekeeperError(`refusing: ${m}; nothing was changed there`, EX_NOPERM, 'unsafe-path');

/** An open, checked directory. */
interface Dir {
  fd: number;
  /** The path we reached it by (messages only; never resolved again). */
  path: string;
  st: Stats;
}

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_WRONLY, O_CREAT, O_EXCL } = constants;
const MAX_LINKS = 40;

/** NAME inside the directory we hold (the emulated openat). */
const at = (d: Dir, name: string) => `/proc/self/fd/${d.fd}/${name}`;
const join2 = (dir: string, name: string) => (dir === '/' ? `/${name}` : `${dir}/${name}`);
/** Only root could have put an entry here: root-owned, writable by nobody else. */
const rootOnly = (st: Stats) => st.uid === 0 && (st.mode & 0o022) === 0;

const notOwner = (uid: number, who: Account) => `is owned by uid ${uid}, ${who.uid === 0 ? 'not root' : `neither root nor ${who.name}`}`;

function checkDir(path: string, st: Stats, who: Account): void {
  if (!st.isDirectory()) throw unsafe(`${path} is not a directory`);
  if (st.uid !== 0 && st.uid !== who.uid) throw unsafe(`${path} ${notOwner(st.uid, who)}`);
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0) throw unsafe(`${path} is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

function openDirAt(parent: Dir | null, name: string, path: string, who: Account): Dir | 'missing' | 'link' | 'notdir' {
  let fd: number;
  try {
    fd = openSync(parent ? at(parent, name) : '/', O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if ((code === 'ENOTDIR' || code === 'ELOOP') && parent) return lstatSync(at(parent, name)).isSymbolicLink() ? 'link' : 'notdir';
    throw e;
  }
  const st = fstatSync(fd);
  try {
    checkDir(path, st, who);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return { fd, path, st };
}

export interface CreateDirs {
  mode: number;
  uid: number;
  gid: number;
  /** Receives the directories created, outermost first. */
  made: string[];
}

/**
 * Open the directory `path` names, checking every component from /. Returns
 * null when a component does not exist (unless `create`, which makes the
 * missing ones with the given mode and owner).
 */
function walkDir(path: string, who: Account, create?: CreateDirs): Dir | null {
  if (!path.startsWith('/')) throw unsafe(`${path} is not absolute`);
  const todo = path.split('/').filter((c) => c !== '' && c !== '.');
  const root = openDirAt(null, '', '/', who);
  if (typeof root === 'string') throw unsafe('/ cannot be opened');
  const stack: Dir[] = [root];
  const closeAll = () => {
    for (const d of stack) closeSync(d.fd);
    stack.length = 0;
  };
  let links = 0;
  try {
    while (todo.length) {
      const name = todo.shift()!;
      const cur = stack[stack.length - 1]!;
      if (name === '..') {
        if (stack.length > 1) closeSync(stack.pop()!.fd);
        continue;
      }
      const next = join2(cur.path, name);
      let r = openDirAt(cur, name, next, who);
      if (r === 'missing' && create) {
        try {
          mkdirSync(at(cur, name), { mode: 0o700 });
          create.made.push(next);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        r = openDirAt(cur, name, next, who);
        if (typeof r !== 'string' && create.made.includes(next)) {
          // Ours: owner and exact mode on the descriptor (mkdir's mode went through the umask).
          fchownSync(r.fd, create.uid, create.gid);
          fchmodSync(r.fd, create.mode);
          r.st = fstatSync(r.fd);
        }
      }
      if (r === 'missing') {
        closeAll();
        return null;
      }
      if (r === 'notdir') throw unsafe(`${next} is not a directory`);
      if (r === 'link') {
        if (!rootOnly(cur.st)) throw unsafe(`${next} is a symbolic link in ${cur.path}, which ${cur.st.uid === 0 ? 'others' : who.name} can change: not following it`);
        if (++links > MAX_LINKS) throw unsafe(`${path}: too many symbolic links`);
        const target = readlinkSync(at(cur, name));
        if (target.startsWith('/')) {
          for (const d of stack.splice(1)) closeSync(d.fd);
        }
        todo.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
        continue;
      }
      stack.push(r);
    }
    const last = stack.pop()!;
    closeAll();
    return last;
  } catch (e) {
    closeAll();
    throw e;
  }
}

/** The checked directory that holds `path`'s final name, following only root's own links. */
function resolveFile(path: string, who: Account, create?: CreateDirs): { dir: Dir; name: string } | null {
  let p = path;
  for (let links = 0; ; links++) {
    const slash = p.lastIndexOf('/');
    const name = p.slice(slash + 1);
    if (name === '' || name === '.' || name === '..') throw unsafe(`${path} does not name a file`);
    const dir = walkDir(p.slice(0, slash) || '/', who, create);
    if (dir === null) return null;
    let st: Stats | null = null;
    try {
      st = lstatSync(at(dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        closeSync(dir.fd);
        throw e;
      }
    }
    if (!st?.isSymbolicLink()) return { dir, name };
    const full = join2(dir.path, name);
    if (!rootOnly(dir.st) || links >= MAX_LINKS) {
      closeSync(dir.fd);
      throw unsafe(`${full} is a symbolic link in ${dir.path}, which ${dir.st.uid === 0 ? 'others' : who.name} can change: not following it`);
    }
    const target = readlinkSync(at(dir, name));
    closeSync(dir.fd);
    p = target.startsWith('/') ? target : join2(dir.path, target);
  }
}

export interface GuardedFile {
  data: Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** Open the final name O_NOFOLLOW|O_NONBLOCK (a FIFO cannot hang us) and check it. */
function openFile(dir: Dir, name: string, who: Account): { fd: number; st: Stats } | null {
  const full = join2(dir.path, name);
  let fd: number;
  try {
    fd = openSync(at(dir, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw unsafe(`${full} is a symbolic link`);
    throw e;
  }
  const st = fstatSync(fd);
  const problem = !st.isFile()
    ? 'is not a regular file'
    : st.uid !== 0 && st.uid !== who.uid
      ? notOwner(st.uid, who)
      : st.uid === 0 && who.uid !== 0 && (st.mode & 0o004) === 0
        ? `is owned by root and not readable by ${who.name}: its bytes must not end up in a file ${who.name} owns`
        : null;
  if (problem) {
    closeSync(fd);
    throw unsafe(`${full} ${problem}`);
  }
  return { fd, st };
}

/** Read `path` in `who`'s area; null when it does not exist. */
export function readGuarded(path: string, who: Account): GuardedFile | null {
  const r = resolveFile(path, who);
  if (r === null) return null;
  try {
    const f = openFile(r.dir, r.name, who);
    if (f === null) return null;
    try {
      return { data: readFileSync(f.fd), mode: f.st.mode & 0o7777, uid: f.st.uid, gid: f.st.gid };
    } finally {
      closeSync(f.fd);
    }
  } finally {
    closeSync(r.dir.fd);
  }
}

/** Mode and owner of `path` in `who`'s area (checked like a read); null when absent. */
export function statGuarded(path: string, who: Account): Omit<GuardedFile, 'data'> | null {
  const r = resolveFile(path, who);
  if (r === null) return null;
  try {
    const f = openFile(r.dir, r.name, who);
    if (f === null) return null;
    closeSync(f.fd);
    return { mode: f.st.mode & 0o7777, uid: f.st.uid, gid: f.st.gid };
  } finally {
    closeSync(r.dir.fd);
  }
}

/** mkdir -p in `who`'s area; returns the directories it created, outermost first. */
export function ensureDirGuarded(path: string, who: Account, mode: number, uid: number, gid: number): string[] {
  const made: string[] = [];
  const d = walkDir(path, who, { mode, uid, gid, made });
  if (d) closeSync(d.fd);
  return made;
}

/**
 * Replace `path` atomically: a temp file created O_EXCL|O_NOFOLLOW in the
 * checked directory, written, fchown'd and fchmod'ed on its descriptor,
 * fsync'd, renamed over the name within that same directory, directory fsync'd.
 */
export function writeGuarded(path: string, data: Buffer, opts: { mode: number; uid: number; gid: number }, who: Account): void {
  const r = resolveFile(path, who);
  if (r === null) throw unsafe(`the directory of ${path} does not exist`);
  const { dir, name } = r;
  try {
    const tmp = `.${name}.gatekeeper-tmp-${randomBytes(6).toString('hex')}`;
    const fd = openSync(at(dir, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fchownSync(fd, opts.uid, opts.gid);
      fchmodSync(fd, opts.mode);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      unlinkSync(at(dir, tmp));
      throw e;
    }
    closeSync(fd);
    try {
      renameSync(at(dir, tmp), at(dir, name));
    } catch (e) {
      unlinkSync(at(dir, tmp));
      throw e;
    }
    try {
      fsyncSync(dir.fd);
    } catch {
      // Some filesystems refuse fsync on directories; the rename is still atomic.
    }
  } finally {
    closeSync(dir.fd);
  }
}

/** Remove `path` in `who`'s area (unlink never follows the final name); absent is fine. */
export function removeGuarded(path: string, who: Account): void {
  const r = resolveFile(path, who);
  if (r === null) return;
  try {
    unlinkSync(at(r.dir, r.name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  } finally {
    closeSync(r.dir.fd);
  }
}
