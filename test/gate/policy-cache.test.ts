// The gate's cache of validated policies: reused only for byte-identical
// text and the same build, never when the file changed; and kept only in a
// directory that is root's alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGatePolicy } from '../../src/gate/policy.js';
import { parsePolicyText, validatePolicy } from '../../src/policy/load.js';
import { pruneCompiledCode, usableCacheDir } from '../../src/gate/cache.js';
import { GatekeeperError } from '../../src/exit.js';
import { runGate, writeRecorder } from '../helpers/gate.js';
import { tempDir, writePolicy } from '../helpers/policy.js';

const asRoot = process.getuid?.() === 0;

let dir: string;
let cache: string;
let file: string;
const entryOf = (f: string) => join(cache, 'policies', `${encodeURIComponent(f)}.json`);

beforeEach(() => {
  dir = tempDir();
  cache = join(dir, 'cache');
  mkdirSync(cache, { mode: 0o700 });
  file = join(dir, 'p.yaml');
  writeFileSync(file, 'rsync: /usr/bin/rsync\naccess: read-only\n', { mode: 0o600 });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Replace the cached policy's access, to see whether a later load takes it from the cache. */
function tamperEntry(f: string, access: string): void {
  const entry = JSON.parse(readFileSync(entryOf(f), 'utf8'));
  entry.policy.access = access;
  writeFileSync(entryOf(f), JSON.stringify(entry));
}

const load = (build: string | null = 'build-1', cacheDir: string | null = cache) => loadGatePolicy(file, { cacheDir, build, checkTrust: false });

describe('loadGatePolicy', () => {
  it('validates on a miss and keeps the result with the exact source text', async () => {
    expect((await load()).policy.access).toBe('read-only');
    const entry = JSON.parse(readFileSync(entryOf(file), 'utf8'));
    expect(entry).toMatchObject({ build: 'build-1', file, source: readFileSync(file, 'utf8'), policy: { access: 'read-only', rsync: '/usr/bin/rsync' } });
  });

  it('reuses the entry while the text is byte-identical', async () => {
    await load();
    tamperEntry(file, 'read-write');
    expect((await load()).policy.access).toBe('read-write');
  });

  it.each([
    ['a changed value', 'rsync: /usr/bin/rsync\naccess: write-only\n', 'write-only'],
    ['a comment added', '# edited\nrsync: /usr/bin/rsync\naccess: read-only\n', 'read-only'],
    ['one byte of whitespace', 'rsync: /usr/bin/rsync\naccess: read-only \n', 'read-only'],
  ])('never uses the entry once the file changed (%s)', async (_what, text, access) => {
    await load();
    tamperEntry(file, 'read-write');
    writeFileSync(file, text);
    expect((await load()).policy.access).toBe(access);
  });

  it('an edit that makes the policy invalid is refused although a valid entry exists', async () => {
    await load();
    writeFileSync(file, 'rsync: /usr/bin/rsync\naccess: read-only\nunknownKey: 1\n');
    await expect(load()).rejects.toMatchObject({ exitCode: 78, code: 'policy-invalid' });
    writeFileSync(file, 'rsync: relative/rsync\n');
    await expect(load()).rejects.toBeInstanceOf(GatekeeperError);
  });

  it('another build does not take the entry', async () => {
    await load('build-1');
    tamperEntry(file, 'read-write');
    expect((await load('build-2')).policy.access).toBe('read-only');
  });

  it('an entry for another file with the same text is not used', async () => {
    const other = join(dir, 'q.yaml');
    writeFileSync(other, readFileSync(file));
    await load();
    tamperEntry(file, 'read-write');
    expect((await loadGatePolicy(other, { cacheDir: cache, build: 'build-1', checkTrust: false })).policy.access).toBe('read-only');
  });

  it('a damaged entry counts as none', async () => {
    await load();
    writeFileSync(entryOf(file), '{"build":"build-1","file":');
    expect((await load()).policy.access).toBe('read-only');
  });

  it('without a cache directory or a build id, nothing is written', async () => {
    await load('build-1', null);
    await load(null, cache);
    expect(existsSync(join(cache, 'policies'))).toBe(false);
  });
});

describe('a validated policy is plain JSON data (what the cache stores)', () => {
  const shipped = join(import.meta.dirname, '..', '..', 'policies');
  it.each(readdirSync(shipped).filter((f) => f.endsWith('.yaml')))('%s survives a JSON round trip unchanged', async (name) => {
    const f = join(shipped, name);
    const p = validatePolicy(await parsePolicyText(readFileSync(f, 'utf8'), f), f);
    expect(JSON.parse(JSON.stringify(p))).toStrictEqual(p);
  });
});

describe('pruneCompiledCode', () => {
  const fill = (n: number) => {
    const sub = join(cache, 'code');
    mkdirSync(sub, { recursive: true });
    for (let i = 0; i < n; i++) {
      const f = join(sub, `f${i}`);
      writeFileSync(f, '');
      utimesSync(f, 1_000_000 + i, 1_000_000 + i);
    }
    return sub;
  };

  it('leaves up to twice `keep` files alone', () => {
    const sub = fill(20);
    pruneCompiledCode(cache, 10);
    expect(readdirSync(sub)).toHaveLength(20);
  });

  it('beyond that keeps the newest `keep`', () => {
    const sub = fill(25);
    pruneCompiledCode(cache, 10);
    expect(readdirSync(sub).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `f${15 + i}`).sort());
  });

  it('does nothing without a code cache', () => {
    expect(() => pruneCompiledCode(join(dir, 'none'))).not.toThrow();
  });
});

describe.runIf(asRoot)('usableCacheDir (as root)', () => {
  it('creates a missing directory 0700 and accepts it', () => {
    const d = join(dir, 'fresh');
    expect(usableCacheDir(d)).toBe(true);
    expect(statSync(d).mode & 0o777).toBe(0o700);
  });

  it.each([
    ['group-readable', (d: string) => chmodSync(d, 0o750)],
    ['world-writable', (d: string) => chmodSync(d, 0o777)],
    ['owned by another user', (d: string) => chownSync(d, 1234, 1234)],
  ])('refuses a directory that is %s', (_what, spoil) => {
    const d = join(dir, 'spoiled');
    mkdirSync(d, { mode: 0o700 });
    spoil(d);
    expect(usableCacheDir(d)).toBe(false);
  });

  it('refuses a symlink, and a directory below a parent others can write', () => {
    const target = join(dir, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(dir, 'link'));
    expect(usableCacheDir(join(dir, 'link'))).toBe(false);
    const open = join(dir, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(usableCacheDir(join(open, 'cache'))).toBe(false);
  });
});

describe.runIf(asRoot)('the built gate', () => {
  it('takes an edit of the policy at once: allowed, then refused, then allowed again', () => {
    const rec = writeRecorder(dir);
    const log = join(dir, 'gate.log');
    const pol = writePolicy(dir, { rsync: rec.path, log, access: 'read-only' }, 'edit.yaml');
    const env = { SSH_ORIGINAL_COMMAND: 'rsync --server --sender -vlogDtprxze.iLsfxCIvu --numeric-ids . /', SSH_CONNECTION: '203.0.113.9 50123 192.0.2.1 22', USER: 'root' };
    const original = readFileSync(pol, 'utf8');
    expect(runGate(['--policy', pol], env).status).toBe(0);
    expect(runGate(['--policy', pol], env).status).toBe(0);
    // Same size and (most likely) the same mtime second: only the text tells the two apart.
    writeFileSync(pol, original.replace('"read-only"', 'write-only '));
    expect(readFileSync(pol, 'utf8').length).toBe(original.length);
    const refused = runGate(['--policy', pol], env);
    expect(refused.status).toBe(77);
    expect(refused.stderr).toMatch(/write-only/);
    writeFileSync(pol, original);
    expect(runGate(['--policy', pol], env).status).toBe(0);
  });
});
