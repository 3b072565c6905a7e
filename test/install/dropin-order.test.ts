// A drop-in that sorts before 00-gatekeeper.conf and sets PermitRootLogin wins
// (sshd keeps the first value it reads): install refuses with one line naming
// that file and the fix, changes nothing, and doctor names the same file.
// Scratch sshd_config trees; the real sshd (-T -f) is the judge.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { firstGlobalSetting, type ConfigReader } from '../../src/sshd/config.js';
import { effectivePermitRootLogin, sshdEffective } from '../../src/sshd/run.js';
import { hostKey } from '../sshd/shapes.js';
import { KEYS, cli, installArgs, makeServer, tree, type Server } from './setup.js';

const SSHD = '/usr/sbin/sshd';
const keyDir = mkdtempSync(join(tmpdir(), 'gk-hostkey-'));
const HOSTKEY = hostKey(keyDir);
const ED = join(KEYS, 'id_ed25519.pub');
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) rmSync(s.base, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

/** A Debian-shaped server with extra files in its sshd_config.d. */
function debianWith(dropIns: Record<string, string>): { s: Server; dir: string } {
  const s = makeServer('debian', HOSTKEY, { authorizedKeys: '' });
  servers.push(s);
  const dir = join(s.base, 'etc-ssh', 'sshd_config.d');
  for (const [name, text] of Object.entries(dropIns)) writeFileSync(join(dir, name), text, { mode: 0o644 });
  return { s, dir };
}
const rootPrl = async (s: Server) => {
  const eff = await sshdEffective(SSHD, s.sshdConfig, { user: 'root', host: 'localhost', addr: '127.0.0.1' });
  if ('error' in eff) throw new Error(eff.error);
  return effectivePermitRootLogin(eff);
};

describe('install beside a drop-in that sorts first', () => {
  it('refuses with one line naming the file that wins and the fix; nothing changes', async () => {
    const { s, dir } = debianWith({ '00-aaa-cloud.conf': '# the admin\'s\nPermitRootLogin yes\n' });
    // sshd itself says the admin's file wins over anything named 00-gatekeeper.conf.
    writeFileSync(join(dir, '00-gatekeeper.conf'), 'PermitRootLogin forced-commands-only\n');
    expect(await rootPrl(s)).toBe('yes');
    rmSync(join(dir, '00-gatekeeper.conf'));

    const before = tree(s.base);
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(78);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${dir}/00-aaa-cloud.conf:2 sets PermitRootLogin yes and sshd reads it before ${dir}/00-gatekeeper.conf`);
    expect(lines[0]).toContain('change that line to PermitRootLogin forced-commands-only or remove it');
    expect(lines[0]).toContain('Nothing was changed');
    expect(tree(s.base)).toEqual(before);
  });

  it('doctor names the same file and line', () => {
    const { s, dir } = debianWith({ '00-aaa-cloud.conf': '# the admin\'s\nPermitRootLogin yes\n' });
    const r = cli(['doctor', '--sshd-config', s.sshdConfig, '--authorized-keys', s.authorizedKeys, '--json']);
    const parsed = JSON.parse(r.stdout) as { check: string; status: string; detail: string; fix?: string }[] | { checks: { check: string; status: string; detail: string; fix?: string }[] };
    const prl = (Array.isArray(parsed) ? parsed : parsed.checks).find((c) => c.check === 'PermitRootLogin');
    expect(prl).toMatchObject({ status: 'warn' });
    expect(prl!.detail).toContain(`sshd reads it first from ${dir}/00-aaa-cloud.conf:2`);
    expect(prl!.fix).toContain(`change ${dir}/00-aaa-cloud.conf:2 to PermitRootLogin forced-commands-only`);
  });

  it('goes ahead when the earlier drop-in sets other keywords, or PermitRootLogin only in a Match block for another user', async () => {
    const { s, dir } = debianWith({
      '00-aaa.conf': 'PasswordAuthentication no\n',
      '0-match.conf': 'Match User backup\n  PermitRootLogin yes\n',
      '99-later.conf': 'PermitRootLogin yes\n',
    });
    const r = cli(installArgs(s, ED));
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(dir, '00-gatekeeper.conf'), 'utf8')).toMatch(/^PermitRootLogin forced-commands-only$/m);
    expect(await rootPrl(s)).toBe('forced-commands-only');
  });
});

describe('firstGlobalSetting: the file sshd takes a keyword from', () => {
  const files: Record<string, string> = {
    '/e/sshd_config': 'Port 22\nInclude /e/d/*.conf\nInclude /e/late\nPermitRootLogin no\n',
    '/e/d/10-b.conf': 'Include /e/nested\n',
    '/e/d/00-Z.conf': 'Match User x\nPermitRootLogin yes\n',
    '/e/d/00-a.conf': 'X11Forwarding no\n',
    '/e/d/.hidden.conf': 'PermitRootLogin yes\n',
    '/e/d/20.txt': 'PermitRootLogin yes\n',
    '/e/nested': 'permitrootlogin=prohibit-password\n',
    '/e/late': 'PermitRootLogin yes\n',
  };
  const reader: ConfigReader = {
    readFile: (p) => files[p] ?? null,
    readDir: (d) => {
      const names = Object.keys(files).filter((p) => p.startsWith(`${d}/`)).map((p) => p.slice(d.length + 1));
      return names.length ? names : null;
    },
  };
  it('descends into Includes in byte order, skips Match blocks, dot files and non-matching names', () => {
    expect(firstGlobalSetting('permitrootlogin', '/e/sshd_config', reader)).toEqual({ file: '/e/nested', lineNo: 1, value: 'prohibit-password' });
  });
  it('ranks a file that is not written yet (install asks before writing), in byte order: "00-Z" < "00-a" < "00-g"', () => {
    const extra = new Map([['/e/d/00-gatekeeper.conf', 'PermitRootLogin forced-commands-only\n']]);
    expect(firstGlobalSetting('permitrootlogin', '/e/sshd_config', reader, '/etc/ssh', extra)).toMatchObject({ file: '/e/d/00-gatekeeper.conf' });
    const late = new Map([['/e/d/50-gatekeeper.conf', 'PermitRootLogin forced-commands-only\n']]);
    expect(firstGlobalSetting('permitrootlogin', '/e/sshd_config', reader, '/etc/ssh', late)).toMatchObject({ file: '/e/nested' });
  });
  it('a value in the main file before any Include wins; nothing set is null', () => {
    const main = new Map([['/e/sshd_config', 'PermitRootLogin no\nInclude /e/d/*.conf\n']]);
    expect(firstGlobalSetting('permitrootlogin', '/e/sshd_config', reader, '/etc/ssh', main)).toEqual({ file: '/e/sshd_config', lineNo: 1, value: 'no' });
    expect(firstGlobalSetting('permitrootlogin', '/e/none', reader)).toBeNull();
  });
});
