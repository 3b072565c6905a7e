// Whether the policy's rsync knows --confine-root: read from the binary, and
// kept in the cache directory only while the binary is the same file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { confineRootSupport, supportsConfineRoot } from '../../src/facts.js';
import { tempDir } from '../helpers/policy.js';

let dir: string;
let cache: string;
let rsync: string;
const NEW = Buffer.concat([Buffer.alloc(3000, 0x7f), Buffer.from('--confine-root'), Buffer.alloc(100)]);
const OLD = Buffer.alloc(NEW.length, 0x7f); // same size: only the content (and ctime) differ

beforeEach(() => {
  dir = tempDir();
  cache = join(dir, 'cache');
  rsync = join(dir, 'rsync');
  writeFileSync(rsync, NEW, { mode: 0o755 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('confineRootSupport', () => {
  it('answers as the binary does, with or without a cache', () => {
    expect(supportsConfineRoot(rsync)).toBe(true);
    expect(confineRootSupport(rsync, null)).toBe(true);
    expect(confineRootSupport(rsync, cache)).toBe(true);
    writeFileSync(rsync, OLD);
    expect(supportsConfineRoot(rsync)).toBe(false);
    expect(confineRootSupport(rsync, cache)).toBe(false);
  });

  it('reuses the cached answer while the file is unchanged (it is not read again)', () => {
    expect(confineRootSupport(rsync, cache)).toBe(true);
    const [entry] = readdirSync(join(cache, 'rsync'));
    const file = join(cache, 'rsync', entry!);
    // Flip the cached answer: if it is used, the result flips too.
    const e = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...e, confineRoot: false }));
    expect(confineRootSupport(rsync, cache)).toBe(false);
  });

  it('asks the binary again when it is replaced by another file', () => {
    expect(confineRootSupport(rsync, cache)).toBe(true);
    const next = join(dir, 'rsync.new');
    writeFileSync(next, OLD, { mode: 0o755 });
    renameSync(next, rsync); // a package upgrade: a new inode
    expect(confineRootSupport(rsync, cache)).toBe(false);
  });

  it('asks again when the file is rewritten in place, even with its old mtime', () => {
    expect(confineRootSupport(rsync, cache)).toBe(true);
    writeFileSync(rsync, OLD);
    utimesSync(rsync, 1_000_000, 1_000_000); // mtime put back; ctime still moves
    expect(confineRootSupport(rsync, cache)).toBe(false);
  });

  it('a damaged entry is ignored and replaced', () => {
    expect(confineRootSupport(rsync, cache)).toBe(true);
    const [entry] = readdirSync(join(cache, 'rsync'));
    writeFileSync(join(cache, 'rsync', entry!), '{not json');
    expect(confineRootSupport(rsync, cache)).toBe(true);
    expect(JSON.parse(readFileSync(join(cache, 'rsync', entry!), 'utf8')).confineRoot).toBe(true);
  });

  it('a missing binary is "no" and leaves nothing cached', () => {
    expect(confineRootSupport(join(dir, 'none'), cache)).toBe(false);
    expect(() => readdirSync(join(cache, 'rsync'))).toThrow();
  });
});
