// A push as root must not plant setuid files: what decide() forces and refuses
// under `setuid: strip` (the default) and lets through under `setuid: keep`.
import { beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from '../../src/evaluate.js';
import { idsFromFile, realFs } from '../../src/facts.js';
import type { Decision, Facts } from '../../src/decide.js';
import { rootTarget } from '../../src/rsync/idmap.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import type { Session } from '../../src/session.js';
import { policy, tempDir, useTree } from '../helpers/policy.js';

const tree = useTree();
let root: string;
beforeAll(() => {
  root = tree.root();
});

// A server whose account files know backup (34), toor (uid 0) and wheel0 (gid 0).
const USERS: Record<string, number> = { root: 0, toor: 0, backup: 34 };
const GROUPS: Record<string, number> = { root: 0, wheel0: 0, backup: 34 };
const accounts = { user: (n: string) => USERS[n] ?? null, group: (n: string) => GROUPS[n] ?? null };
const facts = (withAccounts = true): Facts => (withAccounts ? { fs: realFs, confineRootSupported: true, accounts } : { fs: realFs, confineRootSupported: true });
const session = (cmd: string): Session => ({ originalCommand: cmd, client: { addr: '192.0.2.10', port: 40000 }, server: null, user: 'root', userAuthFile: null });
const PUSH = 'rsync --server -logDtpre.iLsfxCIvu';
const PULL = 'rsync --server --sender -logDtpre.iLsfxCIvu';

const run = (cmd: string, input: PolicyInput, f = facts()) => evaluate(session(cmd), policy({ root, access: 'read-write', ...input }), f);
const argvOf = (d: Decision) => {
  if (d.verdict !== 'allow') throw new Error(`refused: ${d.reason}`);
  return d.argv;
};
/** The forced options: what comes after the client's and before "--". */
const beforeSeparator = (d: Decision) => argvOf(d).slice(0, argvOf(d).indexOf('--'));

describe('setuid: strip (the default) on a push', () => {
  it('forces --chmod=ugo-s on the receiving rsync, before "--"', () => {
    const d = run(`${PUSH} . /dst/`, {});
    expect(d.verdict).toBe('allow');
    expect(beforeSeparator(d)).toContain('--chmod=ugo-s');
    expect(argvOf(d).indexOf('--chmod=ugo-s')).toBeLessThan(argvOf(d).indexOf('--'));
  });
  it('is the default: a policy that says nothing strips, and so does one that says strip', () => {
    expect(policy({}).setuid).toBe('strip');
    expect(beforeSeparator(run(`${PUSH} . /dst/`, { setuid: 'strip' }))).toContain('--chmod=ugo-s');
  });
  it('strips in permissive mode too (enforce: false waives refusals, never forced options)', () => {
    const d = run(`${PUSH} . /dst/`, { access: 'read-only', enforce: false });
    expect(d.verdict).toBe('allow');
    expect(beforeSeparator(d)).toContain('--chmod=ugo-s');
  });
  it('with -X also filters out the security.capability attribute (file capabilities are setuid by another name)', () => {
    const x = run('rsync --server -logDtpXre.iLsfxCIvu . /dst/', {});
    expect(beforeSeparator(x)).toEqual(expect.arrayContaining(['--chmod=ugo-s', '--filter=-x security.capability']));
    expect(beforeSeparator(run(`${PUSH} . /dst/`, {}))).not.toContain('--filter=-x security.capability');
  });
  it('a pull is left alone: the server only reads', () => {
    const d = run(`${PULL} . /data/`, {});
    expect(argvOf(d).some((a) => a.startsWith('--chmod') || a.startsWith('--filter'))).toBe(false);
  });
});

describe('setuid: keep (a full-system restore)', () => {
  it('forces nothing and lets a map onto root through', () => {
    const d = run(`${PUSH}X --usermap=\\*:root --groupmap=:0 . /dst/`, { setuid: 'keep' });
    expect(d.verdict).toBe('allow');
    expect(argvOf(d).some((a) => a.startsWith('--chmod') || a.startsWith('--filter'))).toBe(false);
    expect(argvOf(d)).toEqual(expect.arrayContaining(['--usermap=*:root', '--groupmap=:0']));
  });
  it('is a closed choice: anything but strip or keep is a configuration error', () => {
    expect(() => policy({ setuid: 'off' as 'keep' })).toThrow();
  });
});

describe('--usermap/--groupmap onto uid or gid 0 is refused on a push', () => {
  const refused: [string, string][] = [
    ['--usermap=\\*:root', '*:root'], // what --chown=root sends
    ["--usermap='*:root'", '*:root'],
    ['--groupmap=:0', ':0'],
    ['--usermap=1000-2000:0', '1000-2000:0'],
    ['--usermap=0-65535:00', '0-65535:00'],
    ['--usermap=\\*:4294967296', '*:4294967296'], // wraps to 0 in a 32-bit id
    ['--usermap=wayne:backup,\\*:toor', '*:toor'], // a second name for uid 0
    ['--groupmap=\\*:wheel0', '*:wheel0'],
    ['--usermap=\\*:nosuchuser', '*:nosuchuser'], // cannot be shown not to be root
    ['--usermap \\*:root', '*:root'], // the value as a separate word
  ];
  for (const [opt, item] of refused) {
    it(`${opt}`, () => {
      const d = run(`${PUSH} ${opt} . /dst/`, {});
      expect(d).toMatchObject({ verdict: 'deny', code: 'root-map-refused' });
      expect(d.reason).toContain(`"${item}"`);
      expect(d.reason).toContain('setuid: keep');
    });
  }
  it('--chown and --chmod from a client are refused outright: a client sends neither (rsync turns --chown into the maps)', () => {
    expect(run(`${PUSH} --chown=root:root . /dst/`, { setuid: 'keep' })).toMatchObject({ verdict: 'deny', code: 'unknown-option' });
    expect(run(`${PUSH} --chmod=u+s . /dst/`, {})).toMatchObject({ verdict: 'deny', code: 'unknown-option' });
  });
  it('a named target is refused when the server cannot look names up (fail closed)', () => {
    expect(run(`${PUSH} --usermap=\\*:backup . /dst/`, {}, facts(false))).toMatchObject({ verdict: 'deny', code: 'root-map-refused' });
  });
  it('maps onto other accounts, and maps away from root, are allowed', () => {
    for (const opt of ['--usermap=\\*:backup', '--usermap=0:34', '--usermap=root:backup', '--groupmap=\\*:34,0-99:backup', '--usermap=\\*:4294967297']) {
      const d = run(`${PUSH} ${opt} . /dst/`, {});
      expect(d.verdict, `${opt}: ${d.reason}`).toBe('allow');
    }
  });
  it('a pull with a map is not a push: nothing is written on the server', () => {
    expect(run(`${PULL} --usermap=\\*:root . /data/`, {}).verdict).toBe('allow');
  });
});

describe('rootTarget and the account files', () => {
  it('reads ids from a passwd-format file, first entry wins, unknown names are null', () => {
    const dir = tempDir();
    const file = join(dir, 'passwd');
    writeFileSync(file, 'root:x:0:0::/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nbackup:x:34:34::/var/backups:/usr/sbin/nologin\nbackup:x:99:99::/:/bin/false\n');
    const ids = idsFromFile(file);
    expect([ids('toor'), ids('backup'), ids('nobody')]).toEqual([0, 34, null]);
    expect(rootTarget('*:toor', ids)).toMatchObject({ item: '*:toor' });
    expect(rootTarget('*:backup', ids)).toBeNull();
    expect(idsFromFile(join(dir, 'missing'))('root')).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });
  it('ignores items rsync itself rejects (no colon, nothing after it)', () => {
    expect(rootTarget('root', undefined)).toBeNull();
    expect(rootTarget('*:', undefined)).toBeNull();
  });
});
