// Fixture trees for the end-to-end tests, and an lstat-based snapshot to
// prove a tree arrived identical: type, permission bits, mtime, numeric owner,
// size, content hash, link target, device number and hard-link groups.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  type BigIntStats,
} from 'node:fs';
import { join } from 'node:path';

/** Names that break naive quoting anywhere between the client and the gate. */
export const AWKWARD_NAMES = [
  'with space.txt',
  "quote'single",
  'dq"double',
  '$HOME dollar',
  'semi;colon',
  'ünïcødé ✓.txt',
  '-leading-dash',
  'star*glob?',
  'back\\slash',
  'amp&pipe|lt<gt>',
  '`tick`',
] as const;

export const FIXTURE_UID = 1234;
export const FIXTURE_GID = 2345;

/** Deterministic bytes (so a failing comparison is reproducible). */
export function pseudoRandomBytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    // xorshift32: cheap and incompressible enough for rsync's delta and -z paths.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export type Entry =
  | { kind: 'dir'; path: string; mode: number; uid?: number; gid?: number }
  | { kind: 'file'; path: string; mode: number; content: string | Buffer; uid?: number; gid?: number }
  | { kind: 'symlink'; path: string; target: string; uid?: number; gid?: number }
  | { kind: 'hardlink'; path: string; to: string }
  | { kind: 'char' | 'block'; path: string; mode: number; major: number; minor: number; uid?: number; gid?: number }
  | { kind: 'fifo'; path: string; mode: number; uid?: number; gid?: number };

/** The fixture: every kind of file the original setup's backup must carry. */
export function fixtureEntries(): Entry[] {
  const o = { uid: FIXTURE_UID, gid: FIXTURE_GID };
  return [
    { kind: 'file', path: 'plain.txt', mode: 0o644, content: 'hello, backup\n' },
    { kind: 'file', path: 'empty', mode: 0o600, content: '' },
    { kind: 'file', path: 'big.bin', mode: 0o644, content: pseudoRandomBytes(300_000, 7) },
    { kind: 'file', path: 'exec.sh', mode: 0o755, content: '#!/bin/sh\necho hi\n' },
    { kind: 'file', path: 'setuid', mode: 0o4750, content: 'suid\n' },
    { kind: 'file', path: 'owned', mode: 0o640, content: 'owned by 1234:2345\n', ...o },
    ...AWKWARD_NAMES.map((name, i): Entry => ({ kind: 'file', path: name, mode: 0o644, content: `awkward ${i}: ${name}\n` })),
    { kind: 'dir', path: 'dir with space', mode: 0o755 },
    { kind: 'file', path: 'dir with space/$x;y "z"', mode: 0o600, content: 'nested awkward\n' },
    { kind: 'dir', path: 'sub', mode: 0o750, ...o },
    { kind: 'dir', path: 'sub/nested', mode: 0o755 },
    { kind: 'file', path: 'sub/nested/deep.txt', mode: 0o644, content: 'deep\n', ...o },
    { kind: 'dir', path: 'sub/private', mode: 0o700 },
    { kind: 'file', path: 'sub/private/secret', mode: 0o600, content: 'secret\n' },
    { kind: 'dir', path: 'empty-dir', mode: 0o2775 },
    { kind: 'dir', path: 'links', mode: 0o755 },
    { kind: 'symlink', path: 'links/rel', target: '../plain.txt' },
    { kind: 'symlink', path: 'links/abs', target: '/etc/hostname' },
    { kind: 'symlink', path: 'links/dangling', target: 'no such file' },
    { kind: 'symlink', path: 'links/owned', target: 'rel', ...o },
    { kind: 'dir', path: 'hard', mode: 0o755 },
    { kind: 'file', path: 'hard/a', mode: 0o644, content: 'hard-linked\n' },
    { kind: 'hardlink', path: 'hard/b', to: 'hard/a' },
    { kind: 'hardlink', path: 'sub/nested/c', to: 'hard/a' },
    { kind: 'dir', path: 'dev', mode: 0o755 },
    { kind: 'char', path: 'dev/char', mode: 0o640, major: 1, minor: 3, ...o },
    { kind: 'block', path: 'dev/block', mode: 0o600, major: 7, minor: 200 },
    { kind: 'fifo', path: 'dev/fifo', mode: 0o620 },
  ];
}

/** A fixed, distinct mtime per entry (whole seconds plus a fraction, to see what survives). */
function mtimeFor(index: number): Date {
  return new Date(Date.UTC(2009, 1, 13, 23, 31, 30) + index * 3_600_000 + ((index * 137) % 1000));
}

/**
 * Build the fixture tree under `root` (created if missing). Owners, modes and
 * mtimes are set last, deepest first, so creating children does not disturb them.
 */
export function buildFixtureTree(root: string, entries: Entry[] = fixtureEntries()): void {
  mkdirSync(root, { recursive: true });
  for (const e of entries) {
    const p = join(root, e.path);
    switch (e.kind) {
      case 'dir':
        mkdirSync(p);
        break;
      case 'file':
        writeFileSync(p, e.content);
        break;
      case 'symlink':
        symlinkSync(e.target, p);
        break;
      case 'hardlink':
        linkSync(join(root, e.to), p);
        break;
      case 'char':
      case 'block':
        execFileSync('/usr/bin/mknod', [p, e.kind === 'char' ? 'c' : 'b', String(e.major), String(e.minor)]);
        break;
      case 'fifo':
        execFileSync('/usr/bin/mkfifo', [p]);
        break;
    }
  }
  const ordered = entries.map((e, i) => ({ e, i })).reverse();
  for (const { e, i } of ordered) {
    if (e.kind === 'hardlink') continue;
    const p = join(root, e.path);
    const when = mtimeFor(i + 1);
    if (e.kind === 'symlink') {
      lchownSync(p, e.uid ?? 0, e.gid ?? 0);
      lutimesSync(p, when, when);
      continue;
    }
    chownSync(p, e.uid ?? 0, e.gid ?? 0);
    // chmod after chown: chown clears the setuid bit.
    chmodSync(p, e.mode);
    utimesSync(p, when, when);
  }
  chownSync(root, 0, 0);
  chmodSync(root, 0o755);
  utimesSync(root, mtimeFor(0), mtimeFor(0));
}

/**
 * Date a tree (and everything in it) in the past. rsync compares times to
 * the whole second, so a directory made in the same second as the copy can
 * keep the copy's own mtime and fail a comparison for no fault of the gate.
 */
export function backdate(root: string, when = new Date('2020-01-02T03:04:05Z')): void {
  for (const name of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, name.name);
    if (name.isDirectory()) backdate(p, when);
    else if (name.isSymbolicLink()) lutimesSync(p, when, when);
    else utimesSync(p, when, when);
  }
  utimesSync(root, when, when);
}

export interface TreeEntry {
  type: 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket' | 'other';
  mode: string;
  uid: number;
  gid: number;
  mtime: string;
  size?: number;
  sha256?: string;
  target?: string;
  rdev?: string;
  /** Other paths in the tree that are the same inode (hard links), sorted. */
  links?: string[];
  /** With `identity`: inode and ctime, which change whenever anything writes the entry. */
  ino?: string;
  ctime?: string;
}

export type Snapshot = Record<string, TreeEntry>;

function typeOf(st: BigIntStats): TreeEntry['type'] {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return 'other';
}

/**
 * lstat every entry below `root` (root itself as "."). mtimes are compared
 * to the nanosecond (rsync 3.x with protocol ≥ 31 carries them); pass
 * `mtimePrecision: 's'` where a tool keeps only seconds.
 */
export function snapshot(root: string, opts: { mtimePrecision?: 'ns' | 's'; identity?: boolean } = {}): Snapshot {
  const result: Snapshot = {};
  const inodes = new Map<bigint, string[]>();
  const walk = (rel: string) => {
    const abs = rel === '.' ? root : join(root, rel);
    const st = lstatSync(abs, { bigint: true });
    const type = typeOf(st);
    const mtime = opts.mtimePrecision === 's' ? String(st.mtimeNs / 1_000_000_000n) : String(st.mtimeNs);
    const entry: TreeEntry = { type, mode: (Number(st.mode) & 0o7777).toString(8), uid: Number(st.uid), gid: Number(st.gid), mtime };
    if (type === 'file') {
      entry.size = Number(st.size);
      entry.sha256 = createHash('sha256').update(readFileSync(abs)).digest('hex');
    }
    if (type === 'symlink') entry.target = readlinkSync(abs);
    if (type === 'char' || type === 'block') entry.rdev = String(st.rdev);
    if (opts.identity) {
      entry.ino = String(st.ino);
      entry.ctime = String(st.ctimeNs);
    }
    if (type !== 'dir' && st.nlink > 1n) {
      const group = inodes.get(st.ino) ?? [];
      group.push(rel);
      inodes.set(st.ino, group);
    }
    result[rel] = entry;
    if (type === 'dir') {
      for (const name of readdirSync(abs).sort()) walk(rel === '.' ? name : join(rel, name));
    }
  };
  walk('.');
  for (const group of inodes.values()) {
    if (group.length < 2) continue;
    for (const p of group) result[p]!.links = group.filter((q) => q !== p).sort();
  }
  return result;
}

/** Human-readable differences between two snapshots; [] when identical. */
export function diffSnapshots(expected: Snapshot, actual: Snapshot): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const k of [...keys].sort()) {
    const a = expected[k];
    const b = actual[k];
    if (!a) out.push(`unexpected: ${k}`);
    else if (!b) out.push(`missing: ${k}`);
    else {
      for (const field of new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof TreeEntry>) {
        const x = JSON.stringify(a[field]);
        const y = JSON.stringify(b[field]);
        if (x !== y) out.push(`${k}: ${field} ${x} -> ${y}`);
      }
    }
  }
  return out;
}

/** The paths whose entries differ between two snapshots (added, removed or changed). */
export function changedPaths(a: Snapshot, b: Snapshot): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}
