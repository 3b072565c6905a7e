// install --revoked-keys and uninstall --revoked-keys through the CLI, against
// copies of real sshd_config shapes, judged by the real sshd (-T). Every
// path is a temp path; nothing reloads (--no-reload).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planGlobalSetting } from '../../src/sshd/global-setting.js';
import { revokedKeysSetting } from '../../src/install/revoked-keys.js';
import { effectiveValue, sshdEffective } from '../../src/sshd/run.js';
import { SHAPES, hostKey, type Shape } from '../sshd/shapes.js';
import { GATEKEEPER, cli, makeServer, type Server } from './setup.js';

const SSHD = '/usr/sbin/sshd';
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const servers: Server[] = [];
const server = (shape: Shape) => {
  const s = makeServer(shape, HOSTKEY);
  servers.push(s);
  return s;
};
afterAll(() => {
  for (const s of servers) rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});
beforeAll(() => {
  if (!existsSync(GATEKEEPER)) throw new Error('run npm run build first');
});

const args = (s: Server) => ['--sshd-config', s.sshdConfig, '--config-dir', s.configDir, '--no-reload'];
async function revokedKeys(s: Server, user?: string): Promise<string | undefined> {
  const eff = await sshdEffective(SSHD, s.sshdConfig, user ? { user } : undefined);
  if ('error' in eff) throw new Error(eff.error);
  return effectiveValue(eff, 'revokedkeys');
}

describe('install --revoked-keys, in every sshd_config shape', () => {
  for (const shape of SHAPES) {
    it(`${shape}: sshd reads the list afterwards (globally and for root), the list is an empty KRL, again changes nothing, uninstall takes the line out and keeps the list`, async () => {
      const s = server(shape);
      const list = join(s.base, 'etc-ssh', 'revoked_keys');
      const before = readFileSync(s.sshdConfig, 'utf8');
      expect(await revokedKeys(s)).toBe('none');
      const r = cli(['install', '--revoked-keys', list, ...args(s), '--json']);
      expect(r.status, r.stderr).toBe(0);
      expect(await revokedKeys(s)).toBe(list);
      expect(await revokedKeys(s, 'root')).toBe(list);
      expect(readFileSync(list).subarray(0, 8).toString('latin1')).toBe('SSHKRL\n\0');
      const report = JSON.parse(r.stdout) as { changed: boolean; files: { path: string; action: string }[] };
      expect(report.changed).toBe(true);
      if (shape === 'debian') expect(report.files.map((f) => f.path)).toContain(join(s.base, 'etc-ssh', 'sshd_config.d', '00-gatekeeper-revoked-keys.conf'));
      const again = cli(['install', '--revoked-keys', list, ...args(s), '--json']);
      expect(again.status, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout).changed).toBe(false);

      const u = cli(['uninstall', '--revoked-keys', ...args(s)]);
      expect(u.status, u.stderr).toBe(0);
      expect(readFileSync(s.sshdConfig, 'utf8')).toBe(before);
      expect(await revokedKeys(s)).toBe('none');
      expect(existsSync(list)).toBe(true);
      expect(existsSync(join(s.base, 'etc-ssh', 'sshd_config.d', '00-gatekeeper-revoked-keys.conf'))).toBe(false);
    }, 60_000);
  }

  it('--dry-run changes nothing and shows the line; --all also takes it out', async () => {
    const s = server('no-include');
    const list = join(s.base, 'etc-ssh', 'revoked_keys');
    const before = readFileSync(s.sshdConfig, 'utf8');
    const d = cli(['install', '--revoked-keys', list, ...args(s), '--dry-run']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toContain(`+RevokedKeys ${list}`);
    expect(d.stdout).toContain('would create');
    expect(readFileSync(s.sshdConfig, 'utf8')).toBe(before);
    expect(existsSync(list)).toBe(false);
    expect(cli(['install', '--revoked-keys', list, ...args(s)]).status).toBe(0);
    const u = cli(['uninstall', '--all', ...args(s), '--prefix', s.prefix]);
    expect(u.status, u.stderr).toBe(0);
    expect(readFileSync(s.sshdConfig, 'utf8')).toBe(before);
    expect(existsSync(list)).toBe(true);
  }, 60_000);

  it('refuses (78) an sshd that reads another list, naming it, and changes nothing', () => {
    const s = server('no-include');
    const other = join(s.base, 'etc-ssh', 'other_krl');
    writeFileSync(other, '');
    const text = readFileSync(s.sshdConfig, 'utf8');
    writeFileSync(s.sshdConfig, `RevokedKeys ${other}\n${text}`);
    const r = cli(['install', '--revoked-keys', join(s.base, 'etc-ssh', 'mine'), ...args(s)]);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(`sshd already reads RevokedKeys ${other} (${s.sshdConfig}:1)`);
    expect(existsSync(join(s.base, 'etc-ssh', 'mine'))).toBe(false);
    // The same list is adopted: recorded, sshd_config untouched.
    const same = cli(['install', '--revoked-keys', other, ...args(s), '--json']);
    expect(same.status, same.stderr).toBe(0);
    expect(same.stderr).toContain('not a KRL');
    expect(JSON.parse(readFileSync(join(s.configDir, 'install-state.json'), 'utf8')).revokedKeys).toEqual({ file: other, created: false, sshd: null });
  });

  it('refuses a list that is a symlink, or in a directory others can write (78), and a path sshd_config cannot carry (64)', () => {
    const s = server('no-include');
    const target = join(s.base, 'etc-ssh', 'real');
    writeFileSync(target, '');
    symlinkSync(target, join(s.base, 'etc-ssh', 'link'));
    const link = cli(['install', '--revoked-keys', join(s.base, 'etc-ssh', 'link'), ...args(s)]);
    expect(link.status).toBe(78);
    expect(link.stderr).toContain('a symlink is not followed');
    const open = join(s.base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const w = cli(['install', '--revoked-keys', join(open, 'krl'), ...args(s)]);
    expect(w.status).toBe(78);
    expect(w.stderr).toContain('writable by group or others');
    expect(existsSync(join(open, 'krl'))).toBe(false);
    expect(cli(['install', '--revoked-keys', join(s.base, 'a b'), ...args(s)]).status).toBe(64);
    expect(cli(['install', '--revoked-keys', join(s.base, 'x'), '--key', '/dev/null', ...args(s)]).status).toBe(64);
  });
});

describe('planGlobalSetting', () => {
  const setting = revokedKeysSetting('/etc/ssh/krl');
  it('goes into a drop-in of its own where a drop-in directory is Included first', () => {
    const p = planGlobalSetting('/etc/ssh/sshd_config', 'Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n', setting);
    expect(p).toMatchObject({ kind: 'dropin', path: '/etc/ssh/sshd_config.d/00-gatekeeper-revoked-keys.conf' });
    expect(p.kind === 'dropin' && p.content.endsWith('\nRevokedKeys /etc/ssh/krl\n')).toBe(true);
  });
  it('replaces a global line the main file reads first, else inserts before the first Match', () => {
    expect(planGlobalSetting('/c', 'RevokedKeys none\nInclude /etc/ssh/d/*.conf\n', setting)).toMatchObject({ kind: 'edit', mode: 'replaced', original: 'RevokedKeys none', text: 'RevokedKeys /etc/ssh/krl\nInclude /etc/ssh/d/*.conf\n' });
    const p = planGlobalSetting('/c', 'Port 22\nMatch User x\n  RevokedKeys none\n', setting);
    expect(p).toMatchObject({ kind: 'edit', mode: 'inserted' });
    expect(p.kind === 'edit' && p.text).toBe(`Port 22\n${setting.marker}\nRevokedKeys /etc/ssh/krl\nMatch User x\n  RevokedKeys none\n`);
  });
});
